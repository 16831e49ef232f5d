"""Web pages of access reviews: campaigns (auditors: start one, follow its progress, download its report) and
the review queue (reviewers: certify, shorten or revoke each grant). Rules and changes are topics.policy's and
topics.reviews.services'."""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.decorators import portal_page
from portal.web.pages import queue_forms, require, submit
from topics import policy
from topics.audit import evidence
from topics.models import ReviewItem
from topics.reviews import services as reviews
from topics.reviews.filtersets import ReviewCampaignFilterSet, ReviewItemFilterSet
from topics.reviews.forms import CampaignForm, ReviewDecisionForm
from topics.reviews.tables import ReviewCampaignTable, ReviewItemTable

ITEM_FILTERS = ("namespace", "principal", "decision", "pending")
REPORT_FORMATS = ("csv", "json", "pdf")


@portal_page
def campaign_list(request: HttpRequest) -> HttpResponse:
    require(policy.may_run_reviews(request.user))
    filterset = ReviewCampaignFilterSet(request.GET, queryset=policy.campaigns_visible_to(request.user),
                                        request=request)
    return render(request, "topics/reviews/campaign_list.html", {
        "filterset": filterset, "table": ReviewCampaignTable(filterset.qs, request=request)})


@portal_page
def progress_report(request: HttpRequest, fmt: str) -> HttpResponse:
    """Review campaigns' progress as CSV or JSON (the campaigns the filter form chose)."""
    require(policy.may_run_reviews(request.user))
    filterset = ReviewCampaignFilterSet(request.GET, queryset=policy.campaigns_visible_to(request.user),
                                        request=request)
    return evidence.download_page(reviews.progress_report(filterset.qs), fmt, "review-campaigns")


@portal_page
@require_http_methods(["GET", "POST"])
def campaign_new(request: HttpRequest) -> HttpResponse:
    require(policy.may_run_reviews(request.user))
    form = CampaignForm(request.POST or None)
    campaign = submit(form, lambda data: reviews.start_campaign(request.user, **data))
    if campaign is not None:
        messages.success(request, f"Access review {campaign.name} started: {campaign.items.count()} grant(s) to "
                                  f"review by {campaign.deadline:%Y-%m-%d %H:%M} UTC; the reviewers are told.")
        return redirect("reviews-campaign-detail", pk=campaign.pk)
    return render(request, "topics/reviews/campaign_form.html", {"form": form})


@portal_page
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A campaign's progress and its items (a campaign one may not see is a 404, as one that does not exist)."""
    campaign = get_object_or_404(reviews.with_progress(policy.campaigns_visible_to(request.user)), pk=pk)
    filterset = ReviewItemFilterSet(request.GET, queryset=campaign.items.all(), request=request)
    return render(request, "topics/reviews/campaign_detail.html", {
        "campaign": campaign, "scope": reviews.scope_text(campaign), "filterset": filterset,
        "filter_fields": ITEM_FILTERS, "table": ReviewItemTable(filterset.qs, request=request),
        "formats": REPORT_FORMATS})


@portal_page
def campaign_report(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """Who decided what and when: CSV, JSON or PDF."""
    campaign = get_object_or_404(policy.campaigns_visible_to(request.user).select_related("created_by"), pk=pk)
    return evidence.download_page(reviews.report(campaign), fmt, f"access-review-{campaign.pk}",
                                  allowed=REPORT_FORMATS)


# --- the review queue ---------------------------------------------------------------------------------------

@portal_page
def review_queue(request: HttpRequest) -> HttpResponse:
    return _queue_page(request)


@portal_page
@require_POST
def review_decide(request: HttpRequest, pk: int) -> HttpResponse:
    """One decision on one item; an item one may not see is a 404, one one may not decide a 403 (the service)."""
    item = get_object_or_404(policy.review_items_visible_to(request.user, ReviewItem.objects.select_related(
        "grant__principal", "grant__topic__namespace", "campaign")), pk=pk)
    form = ReviewDecisionForm(request.POST, item_id=item.pk)
    decided = submit(form, lambda data: reviews.decide(request.user, item, decision=form.decision, **data))
    if decided is not None:
        messages.success(request, f"{decided.get_decision_display()}: {item.grant.principal} on "
                                  f"{item.grant.topic.namespace} ({item.campaign.name}).")
        return redirect("reviews-queue")
    return _queue_page(request, bound=form)


def _queue_page(request: HttpRequest, *, bound: ReviewDecisionForm | None = None) -> HttpResponse:
    """The items waiting for my review, each with its form; a failed decision brings its bound form back (or,
    when the item has left the queue meanwhile, its errors as messages)."""
    return render(request, "topics/reviews/queue.html", {
        "entries": queue_forms(request, policy.review_queue(request.user),
                               lambda pk: ReviewDecisionForm(item_id=pk), bound=bound),
        "runs_reviews": policy.may_run_reviews(request.user)})

