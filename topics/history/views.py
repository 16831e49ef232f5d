"""Pages of the history: who could read a namespace (or what a principal could read) at an instant or on a date,
a namespace's timeline, and the reports. Each page's rows also download as CSV and JSON (the point-in-time
answer as PDF too) with `?format=`; the rules are topics.policy's, the answers topics.history's."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe

from accounts.decorators import portal_page
from portal.core import exports
from portal.web.pages import require
from topics import policy
from topics.audit import evidence
from topics.history import reports, services
from topics.history.answer import Window, as_table
from topics.history.chart import bar_chart
from topics.history.filtersets import DriftFilterSet, ReportGrantFilterSet
from topics.history.forms import DaysForm, PointInTimeForm
from topics.history.tables import (AccessTable, DriftTable, ExpiringTable, GrantsPerDayTable, MomentTable,
                                   StaleTable)
from topics.models import Grant, Namespace

REPORT_FILTERS = ("namespace", "principal", "source", "cluster")
CHART_DAYS = 30
POINT_IN_TIME_FORMATS = ("csv", "json", "pdf")


def history_page(view: Callable) -> Callable:
    """A portal page for those who may see history (topics.policy.may_see_history), else a 403."""
    @portal_page
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        require(policy.may_see_history(request.user))
        return view(request, *args, **kwargs)
    checked.__doc__, checked.__name__ = view.__doc__, view.__name__
    return checked


def _download(request: HttpRequest, build: Callable[[], exports.Table], filename: str,
              allowed: Sequence[str] = ("csv", "json")) -> HttpResponse | None:
    """The page's rows as a sealed file when `?format=` asks for one; None for the page itself."""
    fmt = request.GET.get("format")
    if fmt is None:
        return None
    return evidence.download_page(build(), fmt, filename, allowed=allowed)


def _namespace(request: HttpRequest, name: str) -> Namespace:
    return get_object_or_404(policy.history_namespaces_visible_to(request.user), name=name)


@history_page
def history_home(request: HttpRequest) -> HttpResponse:
    """The questions: who could read a namespace, what could a principal read; and the reports. The questions'
    forms come back here (?namespace= or ?principal=, with ?at=) and go on to their answer's page."""
    for parameter, page in (("namespace", "history-namespace"), ("principal", "history-principal")):
        name = request.GET.get(parameter, "").strip()
        if name:
            at = request.GET.get("at", "").strip()
            return redirect(reverse(page, args=[name]) + (f"?{urlencode({'at': at})}" if at else ""))
    return render(request, "topics/history/home.html", {
        "form": PointInTimeForm(), "namespaces": policy.history_namespaces_visible_to(request.user).order_by("name"),
        "may_see_drift": policy.may_see_drift(request.user)})


def _chart(namespace: Namespace, series: list[tuple]) -> str:
    bars = [(f"{day:%m-%d}", grants) for day, grants, _ in series]
    return mark_safe(bar_chart(bars, title=f"Grants that let someone read {namespace.name}, per day",
                               unit=" grant(s)"))  # bar_chart escapes every label


def _point_in_time(request: HttpRequest, answer: Callable[[Window], list], *, title: str, filename: str,
                   template: str, page: Callable[[Window | None], dict] = lambda window: {},
                   **context) -> HttpResponse:
    """The answer for the window asked (now when none): the page (with what `page` adds for the window), or a
    file with `?format=`; `context` names what was asked (namespace or principal)."""
    form = PointInTimeForm(request.GET)
    window = form.window() if form.is_valid() else None
    rows = answer(window) if window else []
    if window is not None:
        download = _download(request, lambda: as_table(rows, title=title, window=window, **context), filename,
                             POINT_IN_TIME_FORMATS)
        if download is not None:
            return download
    return render(request, template, {**context, **page(window), "form": form, "window": window,
                                      "table": AccessTable(rows, request=request)})


@history_page
def namespace_point_in_time(request: HttpRequest, name: str) -> HttpResponse:
    """Who could read the namespace's logs on a date or at an instant, and why; the grants of the 30 days up to
    then as a chart."""
    namespace = _namespace(request, name)

    def chart(window: Window | None) -> dict:
        until = window.start.date() if window else None
        return {"chart": _chart(namespace, reports.grants_over_time(namespace, days=CHART_DAYS, until=until))}

    return _point_in_time(request, lambda window: services.who_could_read(namespace, window),
                          title=f"Who could read {namespace.name}", filename=f"who-could-read-{namespace.name}",
                          template="topics/history/namespace_point_in_time.html", page=chart,
                          namespace=namespace.name)


@history_page
def principal_point_in_time(request: HttpRequest, name: str) -> HttpResponse:
    """What the principal could read on a date or at an instant (of the namespaces the viewer may see), and why."""
    principal = policy.history_principal_visible_to(request.user, name)
    if principal is None:
        raise Http404("No such principal.")
    visible = policy.history_namespaces_visible_to(request.user)
    return _point_in_time(request, lambda window: services.what_could_read(principal, window, visible),
                          title=f"What {principal.name} could read", filename=f"what-could-read-{principal.name}",
                          template="topics/history/principal_point_in_time.html", principal=principal.name)


@history_page
def namespace_timeline(request: HttpRequest, name: str) -> HttpResponse:
    namespace = _namespace(request, name)
    moments = services.timeline(namespace)
    download = _download(request, lambda: exports.Table(
        title=f"Timeline of {namespace.name}", columns=services.TIMELINE_COLUMNS,
        rows=[[m.at, m.what, m.principal, m.topic, m.detail] for m in moments],
        parameters={"namespace": namespace.name}), f"timeline-{namespace.name}")
    return download or render(request, "topics/history/timeline.html", {
        "namespace": namespace, "table": MomentTable(moments, request=request)})


def _report_grants(request: HttpRequest) -> ReportGrantFilterSet:
    visible = Grant.objects.filter(topic__namespace__in=policy.history_namespaces_visible_to(request.user))
    return ReportGrantFilterSet(request.GET, queryset=visible, request=request)


@dataclass(frozen=True)
class GrantReport:
    """A report over the grants the viewer may see: N days (`default_days` unless asked) and the filters pick
    `rows(grants, days)`; `export(rows, days)` is its download."""

    default_days: int
    rows: Callable
    export: Callable
    filename: str
    title: str
    days_label: str
    table_class: type
    about: str


GRANT_REPORTS = {
    "expiring": GrantReport(
        7, lambda grants, days: reports.expiring(grants, within_days=days),
        lambda grants, days: reports.expiring_table(grants, within_days=days), "access-expiring",
        "Access expiring soon", "Ending within (days)", ExpiringTable,
        "Active grants that end within the days asked, soonest first."),
    "stale": GrantReport(
        30, lambda grants, days: reports.stale(grants, idle_days=days),
        lambda grants, days: reports.stale_table(grants, idle_days=days), "access-stale",
        "Stale access", "Unused for (days)", StaleTable,
        "Active grants held at least that long under which their holder read nothing for that long: no read "
        "through the portal and no move of a consumer group of theirs on the broker (sampled every "
        "LOGWARDEN_GROUP_SAMPLE_SECONDS)."),
}


@history_page
def grant_report(request: HttpRequest, report: str) -> HttpResponse:
    """Access expiring within N days (7 unless asked); stale access: grants held N days (30 unless asked) without
    a read through the portal or a consumer group."""
    chosen = GRANT_REPORTS[report]
    days_form, filterset = DaysForm(request.GET, default=chosen.default_days), _report_grants(request)
    days = days_form.asked()
    grants = chosen.rows(filterset.qs, days)
    return _download(request, lambda: chosen.export(grants, days), chosen.filename) or render(
        request, "topics/history/report.html", {
            "title": chosen.title, "about": chosen.about, "days_label": chosen.days_label, "days_form": days_form,
            "filterset": filterset, "filter_fields": REPORT_FILTERS,
            "table": chosen.table_class(grants, request=request)})


@history_page
def report_drift(request: HttpRequest) -> HttpResponse:
    """Reconcile runs that found drift, and what each did about it (auditors and admins)."""
    require(policy.may_see_drift(request.user))
    filterset = DriftFilterSet(request.GET, queryset=reports.drift(), request=request)
    runs = filterset.qs
    for run in (table := DriftTable(runs, request=request)).rows:
        run.action_taken = reports.drift_action(run)
    return _download(request, lambda: reports.drift_table(runs), "drift") or render(
        request, "topics/history/report.html", {
            "title": "Drift found and what was done", "filterset": filterset, "table": table,
            "about": "Reconcile runs that found the broker changed out of band: bindings letting others read "
                     "managed topics, our users' bindings elsewhere, credentials gone, unknown users under our "
                     "names."})


@history_page
def report_grants_over_time(request: HttpRequest, name: str) -> HttpResponse:
    """How many grants let someone read the namespace on each of the last N days (30 unless asked)."""
    namespace = _namespace(request, name)
    days_form = DaysForm(request.GET, default=CHART_DAYS)
    series = reports.grants_over_time(namespace, days=days_form.asked())
    download = _download(request, lambda: reports.grants_over_time_table(namespace, series, days=days_form.asked()),
                         f"grants-over-time-{namespace.name}")
    return download or render(request, "topics/history/grants_over_time.html", {
        "namespace": namespace, "days_form": days_form, "chart": _chart(namespace, series),
        "table": GrantsPerDayTable(list(reversed(series)), request=request)})
