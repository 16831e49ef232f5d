"""Access reviews on the real servers: a missed review revokes and the ACL leaves the broker; reviewers certify,
shorten or revoke; nobody reviews their own access; reminders go out at T−7 and T−1 once each; the pages and
the API show each person what they may see (404 for the rest); the report says who decided what and when."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Notification
from portal.models import AuditEvent
from tests.api_clients import client_as
from tests.factories import approve, ask
from tests.helpers import html, sealed_csv_rows
from tests.topics.reviews.conftest import RECORD, soon
from topics import policy
from topics.access import services as access
from topics.kafka.adapter import read_records
from topics.kafka.errors import KafkaAuthorizationError
from topics.models import (BrokerChange, CampaignState, Grant, GrantState, KafkaCredential, NoResponseAction,
                           ReviewCampaign, ReviewDecision, ReviewItem, ReviewReminder)
from topics.provisioning import handoff
from topics.provisioning.principals import principal_for
from topics.reviews import services as reviews
from topics.tasks import access_reviews_due

pytestmark = [pytest.mark.django_db]


def start(world, *namespaces, deadline=None, **scope):
    return reviews.start_campaign(world.auditor, name="Q4 review", deadline=deadline or soon(),
                                  namespaces=list(namespaces), **scope)


def item_of(campaign, grant) -> ReviewItem:
    return campaign.items.select_related("campaign", "grant__principal", "grant__topic__namespace").get(grant=grant)


# --- the missed review, on the real broker ---------------------------------------------------------------------

@pytest.mark.kafka
def test_a_missed_review_revokes_and_the_acl_leaves_the_real_broker(
        world, on_broker, kafka_connection, kafka_admin, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        grant = approve(world, ask(world, on_broker))
    credential = KafkaCredential.objects.get(principal__user=world.engineer)
    as_alice = kafka_connection.as_user(credential.username, handoff.claim(credential))
    topic = on_broker.topics.get().name
    group = f"{grant.principal.name}.review"
    assert read_records(as_alice, topic, group=group) == [RECORD]
    campaign = start(world, on_broker)
    assert campaign.no_response_action == NoResponseAction.REVOKE  # the default

    type(campaign).objects.filter(pk=campaign.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        outcome = access_reviews_due.delay().get()

    assert outcome["closed"] == {"Q4 review": {"missed": 1, "ended": 0, "revoked": 1}}
    grant.refresh_from_db()
    assert grant.state == GrantState.REVOKED and grant.ended_by is None
    assert "Not reviewed by the deadline" in grant.end_reason
    assert item_of(campaign, grant).decision == ReviewDecision.MISSED
    campaign.refresh_from_db()
    assert campaign.state == CampaignState.CLOSED
    assert not kafka_admin.describe_acls(principal=f"User:{credential.username}", resource_name=topic)
    with pytest.raises(KafkaAuthorizationError):
        read_records(as_alice, topic, group=f"{group}.after")
    revoke = AuditEvent.objects.get(action="grant.revoke", target_id=str(grant.pk))
    assert revoke.actor_label == "system" and revoke.data["campaign"] == campaign.pk
    assert AuditEvent.objects.filter(action="review.campaign.close", target_id=str(campaign.pk)).exists()


def access_reviews_due_at(campaign):
    type(campaign).objects.filter(pk=campaign.pk).update(deadline=timezone.now() - timedelta(seconds=1))
    return reviews.close_due_campaigns()


def test_keep_as_the_no_response_action_keeps_the_grant_and_records_it_missed(world, held):
    campaign = start(world, held["engineer"].topic.namespace, no_response_action=NoResponseAction.KEEP)
    access_reviews_due_at(campaign)

    assert set(campaign.items.values_list("decision", flat=True)) == {ReviewDecision.MISSED}
    assert set(Grant.objects.filter(pk__in=[g.pk for g in held.values()]).values_list("state", flat=True)) == {
        GrantState.ACTIVE}


def test_a_grant_that_ended_before_the_deadline_is_recorded_as_ended_not_revoked(world, held):
    campaign = start(world, held["engineer"].topic.namespace)
    access.end_grant(world.engineer, held["engineer"], how=GrantState.RELEASED)

    access_reviews_due_at(campaign)

    assert item_of(campaign, held["engineer"]).decision == ReviewDecision.ENDED
    assert not AuditEvent.objects.filter(action="grant.revoke", target_id=str(held["engineer"].pk)).exists()


# --- who reviews what --------------------------------------------------------------------------------------------

def test_the_owners_review_and_nobody_reviews_their_own_access(world, held, second_owner, settings):
    settings.LOGWARDEN_REVIEW_FALLBACK_REVIEWERS = ["carol"]
    campaign = start(world, held["engineer"].topic.namespace)
    alice, bob, etl = (item_of(campaign, held[role]) for role in ("engineer", "owner", "service_account"))

    # bob owns payments: he reviews alice's grant, not his own; olive, the other owner, reviews both. Neither
    # reviews the payments service account's: both are of its team and may issue its tokens, so the fallback
    # reviewer (carol) does
    assert [i.pk for i in policy.review_queue(world.owner)] == [alice.pk]
    assert {i.pk for i in policy.review_queue(second_owner)} == {alice.pk, bob.pk}
    assert (alice.by_fallback, bob.by_fallback, etl.by_fallback) == (False, False, True)
    assert [i.pk for i in policy.review_queue(world.auditor)] == [etl.pk]
    with pytest.raises(PermissionDenied):
        reviews.decide(world.owner, bob, decision=ReviewDecision.CERTIFY, comment="mine is fine")
    assert not bob.decided_by_id and not ReviewItem.objects.get(pk=bob.pk).decision


def test_the_fallback_reviewers_review_what_no_owner_may(world, held, settings):
    settings.LOGWARDEN_REVIEW_FALLBACK_REVIEWERS = ["carol", "bob"]
    campaign = start(world, held["engineer"].topic.namespace)
    bob_item = item_of(campaign, held["owner"])

    assert bob_item.by_fallback  # bob is the only owner: the fallback reviewers, less bob himself
    assert {i.pk for i in policy.review_queue(world.auditor)} == {bob_item.pk, item_of(
        campaign, held["service_account"]).pk}
    assert bob_item.pk not in {i.pk for i in policy.review_queue(world.owner)}
    reviews.decide(world.auditor, bob_item, decision=ReviewDecision.CERTIFY, comment="on call rota")
    assert ReviewItem.objects.get(pk=bob_item.pk).decided_by == world.auditor


def test_without_fallback_reviewers_a_grant_nobody_may_review_is_missed(world, held):
    campaign = start(world, held["engineer"].topic.namespace)
    start_event = AuditEvent.objects.get(action="review.campaign.start", target_id=str(campaign.pk))
    assert start_event.data["unreviewable"] == 2 and start_event.data["reviewers"] == ["bob"]
    access_reviews_due_at(campaign)
    assert Grant.objects.get(pk=held["owner"].pk).state == GrantState.REVOKED


# --- decisions ----------------------------------------------------------------------------------------------------

def test_certify_shorten_and_revoke(world, held, second_owner, settings, django_capture_on_commit_callbacks):
    settings.LOGWARDEN_REVIEW_FALLBACK_REVIEWERS = ["carol"]  # the service account's: no owner may
    campaign = start(world, held["engineer"].topic.namespace)
    alice, bob, etl = (item_of(campaign, held[role]) for role in ("engineer", "owner", "service_account"))
    reviews.decide(world.owner, alice, decision=ReviewDecision.CERTIFY, comment="still on call")

    end = held["owner"].valid_until
    with pytest.raises(ValidationError) as refused:
        reviews.decide(second_owner, bob, decision=ReviewDecision.SHORTEN, comment="longer",
                       valid_until=end + timedelta(days=1))
    assert "only shortens" in refused.value.message_dict["valid_until"][0]
    new_end = timezone.now() + timedelta(days=2)
    reviews.decide(second_owner, bob, decision=ReviewDecision.SHORTEN, comment="two more days", valid_until=new_end)
    with django_capture_on_commit_callbacks():
        reviews.decide(world.auditor, etl, decision=ReviewDecision.REVOKE, comment="the job moved")

    assert Grant.objects.get(pk=held["owner"].pk).valid_until == new_end
    assert BrokerChange.objects.filter(due_at=new_end, cluster=held["owner"].topic.cluster).exists()
    assert Grant.objects.get(pk=held["service_account"].pk).state == GrantState.REVOKED
    assert Grant.objects.get(pk=held["service_account"].pk).ended_by == world.auditor
    with pytest.raises(ValidationError, match="Already decided"):
        reviews.decide(world.owner, alice, decision=ReviewDecision.REVOKE, comment="changed my mind")
    decided = AuditEvent.objects.filter(action="review.decide").order_by("sequence")
    assert [(e.actor_label, e.data["decision"]) for e in decided] == [
        ("bob", "certify"), ("olive", "shorten"), ("carol", "revoke")]
    assert AuditEvent.objects.filter(action="grant.shorten", target_id=str(held["owner"].pk)).exists()


def test_after_the_deadline_nobody_decides_any_more(world, held):
    campaign = start(world, held["engineer"].topic.namespace)
    ReviewCampaign.objects.filter(pk=campaign.pk).update(deadline=timezone.now() - timedelta(seconds=1))

    assert policy.review_queue(world.owner) == []
    with pytest.raises(ValidationError, match="deadline has passed"):
        reviews.decide(world.owner, item_of(campaign, held["engineer"]), decision=ReviewDecision.CERTIFY,
                       comment="late")


def test_a_decision_needs_a_comment_and_a_known_decision(world, held):
    item = item_of(start(world, held["engineer"].topic.namespace), held["engineer"])
    with pytest.raises(ValidationError) as refused:
        reviews.decide(world.owner, item, decision=ReviewDecision.CERTIFY, comment="  ")
    assert "comment" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        reviews.decide(world.owner, item, decision=ReviewDecision.MISSED, comment="x")
    assert "decision" in refused.value.message_dict


def test_a_campaign_needs_an_auditor_a_future_deadline_and_grants_in_scope(world, held, chk):
    with pytest.raises(PermissionDenied):
        reviews.start_campaign(world.owner, name="mine", deadline=soon())
    with pytest.raises(ValidationError) as refused:
        reviews.start_campaign(world.auditor, name="", deadline=timezone.now(), sensitivities=["secret"])
    assert set(refused.value.message_dict) == {"name", "deadline", "sensitivities"}
    with pytest.raises(ValidationError, match="No active grants"):
        start(world, chk)
    assert start(world, sensitivities=["standard"], teams=[world.payments]).items.count() == 3
    with pytest.raises(ValidationError, match="No active grants"):
        start(world, sensitivities=["high"])


# --- reminders ------------------------------------------------------------------------------------------------

def test_reminders_go_out_at_seven_days_and_one_day_before_the_deadline_once_each(
        world, held, second_owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        campaign = start(world, held["engineer"].topic.namespace, deadline=soon(30))
    assert sorted(m.to[0] for m in mail.outbox) == [world.owner.email, second_owner.email]  # told at the start
    mail.outbox.clear()
    deadline = campaign.deadline

    def check(at):
        with django_capture_on_commit_callbacks(execute=True):
            return reviews.send_due_reminders(now=at)

    assert check(deadline - timedelta(days=7, seconds=1)) == {}
    assert check(deadline - timedelta(days=7)) == {"Q4 review": [7]}
    assert check(deadline - timedelta(days=6)) == {}
    assert len(mail.outbox) == 2 and "Reminder" in mail.outbox[0].subject
    assert check(deadline - timedelta(days=1)) == {"Q4 review": [1]}
    assert check(deadline - timedelta(hours=1)) == {}
    assert len(mail.outbox) == 4
    assert list(campaign.reminders.values_list("days_before", flat=True)) == [7, 1]
    assert Notification.objects.filter(recipient=world.owner, subject__startswith="Reminder").count() == 2
    assert AuditEvent.objects.filter(action="review.remind").count() == 2


def test_a_reminder_goes_only_to_reviewers_with_something_left_to_review(world, held, second_owner):
    campaign = start(world, held["engineer"].topic.namespace, deadline=soon(3))
    reviews.decide(world.owner, item_of(campaign, held["engineer"]), decision=ReviewDecision.CERTIFY, comment="ok")
    reviews.send_due_reminders(now=campaign.deadline - timedelta(days=1))

    reminded = Notification.objects.filter(subject__startswith="Reminder")
    assert list(reminded.values_list("recipient__username", flat=True)) == ["olive"]
    assert ReviewReminder.objects.filter(campaign=campaign).get().days_before == 1  # T-7 came before the start


# --- pages, API, report --------------------------------------------------------------------------------------

def test_pages_show_each_person_what_they_may_see(world, held, as_role, client):
    campaign = start(world, held["engineer"].topic.namespace)
    alice_item = item_of(campaign, held["engineer"])
    auditor = as_role("auditor")
    assert auditor.get("/access/reviews/campaigns/").status_code == 200
    page = html(auditor.get(f"/access/reviews/campaigns/{campaign.pk}/"))
    assert "Q4 review" in page and "3</strong> of 3 pending" in page

    client.force_login(world.owner)
    assert client.get("/access/reviews/campaigns/").status_code == 403
    assert client.get(f"/access/reviews/campaigns/{campaign.pk}/").status_code == 404
    assert client.get(f"/access/reviews/campaigns/{campaign.pk}/report.csv").status_code == 404
    queue = html(client.get("/access/reviews/"))
    assert f'action="/access/reviews/{alice_item.pk}/decide/"' in queue
    assert 'Reviews <span class="badge" title="waiting for your review">1</span>' in queue  # bob: alice's grant

    client.force_login(world.outsider)  # erin owns nothing in payments: the item does not exist for her
    refused = client.post(f"/access/reviews/{alice_item.pk}/decide/", {"decision": "revoke", "comment": "x"})
    assert refused.status_code == 404
    assert "No grant waits for your review" in html(client.get("/access/reviews/"))


def test_a_reviewer_decides_on_the_queue_page_and_errors_come_back_on_the_form(world, held, client):
    campaign = start(world, held["engineer"].topic.namespace)
    item = item_of(campaign, held["engineer"])
    client.force_login(world.owner)

    refused = client.post(f"/access/reviews/{item.pk}/decide/", {"decision": "shorten", "comment": "shorter"})
    assert refused.status_code == 200 and "Give the new end" in html(refused)
    too_long = client.post(f"/access/reviews/{item.pk}/decide/", {"decision": "certify", "comment": "x" * 2001})
    assert "At most 2000 characters" in html(too_long)
    done = client.post(f"/access/reviews/{item.pk}/decide/", {"decision": "certify", "comment": "on call"})
    assert done.status_code == 302
    assert ReviewItem.objects.get(pk=item.pk).decision == ReviewDecision.CERTIFY


def test_an_auditor_starts_a_campaign_on_its_page(world, held, as_role):
    auditor = as_role("auditor")
    response = auditor.post("/access/reviews/campaigns/new/", {
        "name": "Payments", "deadline": (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M"),
        "teams": ["payments"], "no_response_action": "revoke"})
    assert response.status_code == 302
    campaign = ReviewCampaign.objects.get(name="Payments")
    assert campaign.items.count() == 3 and campaign.created_by == world.auditor
    empty = auditor.post("/access/reviews/campaigns/new/", {"name": "x", "deadline": "2001-01-01T00:00",
                                                           "no_response_action": "revoke"})
    assert "A moment still to come" in html(empty)


@pytest.mark.parametrize("fmt", ["csv", "json", "pdf"])
def test_the_campaign_report_says_who_decided_what_and_when(world, held, as_role, fmt):
    campaign = start(world, held["engineer"].topic.namespace)
    reviews.decide(world.owner, item_of(campaign, held["engineer"]), decision=ReviewDecision.REVOKE,
                   comment="left the team")
    response = as_role("auditor").get(f"/access/reviews/campaigns/{campaign.pk}/report.{fmt}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="access-review-{campaign.pk}.{fmt}"'
    if fmt == "csv":
        rows = sealed_csv_rows(response)
        mine = next(row for row in rows if row["principal"] == principal_for(world.engineer).name)
        assert (mine["decision"], mine["decided_by"], mine["comment"]) == ("Revoked", "bob", "left the team")
        assert {row["decision"] for row in rows if row is not mine} == {"pending"}
    elif fmt == "json":
        document = json.loads(response.content)
        assert document["parameters"]["deadline"] == campaign.deadline.isoformat()
        assert len(document["rows"]) == 3
    else:
        assert response.content.startswith(b"%PDF")
    assert as_role("auditor").get(f"/access/reviews/campaigns/{campaign.pk}/report.xls").status_code == 400


def test_the_api_lists_campaigns_to_auditors_and_items_to_their_reviewers(world, held):
    auditor = client_as(world, "auditor")
    created = auditor.post("/api/review-campaigns/", {"name": "API review", "deadline": soon().isoformat(),
                                                      "namespaces": [held["engineer"].topic.namespace.name]},
                           format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["total"], body["pending"], body["no_response_action"]) == (3, 3, "revoke")
    assert client_as(world, "owner").get("/api/review-campaigns/").status_code == 403
    refused = auditor.post("/api/review-campaigns/", {"name": "x", "deadline": soon().isoformat(),
                                                      "namespaces": ["nope"]}, format="json")
    assert refused.status_code == 400 and "namespaces" in refused.json()

    owner = client_as(world, "owner")
    queue = owner.get("/api/review-queue/").json()["results"]
    assert [row["principal"] for row in queue] == [principal_for(world.engineer).name]
    item = queue[0]["id"]
    assert client_as(world, "outsider").get(f"/api/review-items/{item}/").status_code == 404
    decided = owner.post(f"/api/review-items/{item}/decide/", {"decision": "certify", "comment": "fine"},
                         format="json")
    assert decided.status_code == 200, decided.content
    assert decided.json()["decided_by"] == "bob"
    own = ReviewItem.objects.get(grant=held["owner"])
    assert owner.post(f"/api/review-items/{own.pk}/decide/", {"decision": "certify", "comment": "me"},
                      format="json").status_code == 403


@pytest.mark.parametrize(("role", "status"), [("auditor", 200), ("admin", 200), ("owner", 403), ("engineer", 403),
                                              ("outsider", 403)])
def test_only_those_who_run_reviews_open_the_campaign_pages(as_role, role, status):
    client = as_role(role)
    for url in ("/access/reviews/campaigns/", "/access/reviews/campaigns/new/",
                "/access/reviews/campaigns/progress.csv"):
        assert client.get(url).status_code == status, url
    assert client.get("/access/reviews/").status_code == 200  # everyone has a queue, maybe empty


@pytest.mark.parametrize("url", ["/access/reviews/", "/access/reviews/campaigns/", "/access/reviews/campaigns/1/",
                                 "/access/break-glass/", "/access/break-glass/new/", "/access/break-glass/1/"])
def test_every_review_and_break_glass_page_asks_for_sign_in_first(client, world, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
