"""Web pages of break-glass: the uses one may see with their reviews (the report, downloadable), breaking the
glass (the break-glass role), and a use with its review form. Rules and changes are topics.policy's and
topics.breakglass.services'."""
from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import portal_page
from portal.web.pages import require, submit
from topics import policy
from topics.audit import evidence
from topics.breakglass import services as breakglass
from topics.breakglass.filtersets import BreakGlassUseFilterSet
from topics.breakglass.forms import BreakGlassForm, BreakGlassReviewForm
from topics.breakglass.tables import BreakGlassUseTable
from topics.models import BreakGlassUse

USES = BreakGlassUse.objects.select_related("user", "principal", "namespace", "reviewed_by")


@portal_page
def use_list(request: HttpRequest) -> HttpResponse:
    filterset = BreakGlassUseFilterSet(request.GET, queryset=policy.break_glass_visible_to(request.user, USES),
                                       request=request)
    return render(request, "topics/breakglass/use_list.html", {
        "filterset": filterset, "table": BreakGlassUseTable(filterset.qs, request=request),
        "may_break_glass": policy.may_break_glass(request.user)})


@portal_page
def use_report(request: HttpRequest, fmt: str) -> HttpResponse:
    """The uses the filter form chose, with their reviews, as CSV or JSON."""
    filterset = BreakGlassUseFilterSet(request.GET, queryset=policy.break_glass_visible_to(request.user, USES),
                                       request=request)
    parameters = {name: value for name, value in request.GET.items() if name in filterset.filters}
    return evidence.download_page(breakglass.report(filterset.qs, parameters), fmt, "break-glass")


@portal_page
@require_http_methods(["GET", "POST"])
def use_new(request: HttpRequest) -> HttpResponse:
    require(policy.may_break_glass(request.user))
    form = BreakGlassForm(request.POST or None)
    use = submit(form, lambda data: breakglass.break_glass(request.user, **data))
    if use is not None:
        messages.success(request, f"Break-glass access to {use.namespace} until {use.valid_until:%Y-%m-%d %H:%M} "
                                  f"UTC: it is being provisioned now. Collect your Kafka password on the "
                                  f"credentials page. The owners and the auditors are told.")
        return redirect("breakglass-detail", pk=use.pk)
    return render(request, "topics/breakglass/use_form.html", {
        "form": form, "max_hours": settings.LOGWARDEN_BREAK_GLASS_MAX_HOURS})


@portal_page
def use_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail_page(request, pk)


@portal_page
@require_POST
def use_review(request: HttpRequest, pk: int) -> HttpResponse:
    use = get_object_or_404(policy.break_glass_visible_to(request.user, USES), pk=pk)
    require(policy.may_review_break_glass(request.user, use))
    form = BreakGlassReviewForm(request.POST)
    if submit(form, lambda data: breakglass.review(request.user, use, **data)) is not None:
        messages.success(request, f"Break-glass #{use.pk} reviewed: the finding is closed.")
        return redirect("breakglass-detail", pk=use.pk)
    return _detail_page(request, pk, form=form)


def _detail_page(request: HttpRequest, pk: int, *, form: BreakGlassReviewForm | None = None) -> HttpResponse:
    use = get_object_or_404(policy.break_glass_visible_to(request.user, USES), pk=pk)
    reviewable = policy.may_review_break_glass(request.user, use)
    return render(request, "topics/breakglass/use_detail.html", {
        "use": use, "grants": use.grants.select_related("topic__cluster").order_by("topic__name"),
        "form": (form or BreakGlassReviewForm()) if reviewable else None})
