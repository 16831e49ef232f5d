"""The web pages of access: the request form, my requests, a request, the approval queue, grants (and a
namespace's and a principal's). Each role sees what it may; forbidden actions are a 403; every change is
audited."""
from __future__ import annotations

import re

import pytest

from portal.models import AuditEvent
from tests.factories import approve, ask, person
from tests.helpers import PEOPLE, actions, html
from topics.access import services as access
from topics.models import AccessRequest, Approval, Grant, GrantSource, GrantState, RequestState
from topics.provisioning.principals import principal_for

pytestmark = pytest.mark.django_db


def options(page: str, name: str) -> list[tuple[str, bool]]:
    """(value, selected) of each option of the select named `name`."""
    select = re.search(rf'<select name="{name}".*?</select>', page, re.S).group(0)
    return [(value, bool(selected)) for value, selected in re.findall(r'<option value="([^"]*)"( selected)?', select)]


def requests_listed(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<a href="/access/requests/(\d+)/"><strong>', html(response))]


def principals_listed(response) -> list[str]:
    return re.findall(r'<a href="/access/principals/([^/]+)/"><code>', html(response))


# --- sign-in, nav ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/access/requests/", "/access/requests/new/", "/access/requests/1/",
                                 "/access/approvals/", "/access/grants/", "/access/principals/u.alice/",
                                 "/access/credentials/", "/access/reconcile/"])
def test_every_access_page_asks_for_sign_in_first(client, world, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", PEOPLE)
def test_nav_links_the_access_pages_and_reconcile_to_admins_and_auditors(as_role, role):
    page = html(as_role(role).get("/"))
    for url in ("/access/requests/", "/access/approvals/", "/access/grants/"):
        assert f'href="{url}"' in page
    assert ('href="/access/reconcile/"' in page) is (role in ("auditor", "admin"))


def test_nav_counts_the_decisions_waiting_for_me(as_role, world, pay, chk):
    ask(world, pay)
    ask(world, pay, chk)
    badge = re.compile(r'Approvals <span class="badge"[^>]*>(\d+)</span>')
    assert badge.search(html(as_role("owner").get("/"))).group(1) == "2"  # bob owns pay, not chk
    assert not badge.search(html(as_role("engineer").get("/")))  # alice asked: nothing for her to decide


# --- the request form -----------------------------------------------------------------------------------

def test_request_form_offers_me_and_my_teams_service_accounts_and_preselects_the_namespace(as_role, world, pay, chk):
    page = html(as_role("engineer").get("/access/requests/new/", {"namespace": pay.name}))
    assert options(page, "principal") == [("u.alice", True), ("sa.payments-etl", False)]
    assert "u.alice (you)" in page and "sa.payments-etl (service account)" in page
    assert (pay.name, True) in options(page, "namespaces") and (chk.name, False) in options(page, "namespaces")
    assert f"{chk.name} — high, up to 14 days" in page  # the maximum of each namespace's sensitivity
    assert 'data-searchable="Search namespaces"' in page  # the search box above the multi-select

    page = html(as_role("outsider").get("/access/requests/new/"))
    assert [label for label in re.findall(r"(u\.\w+|sa\.[\w-]+) \(", page)] == ["u.erin"]


def test_request_form_shows_the_services_errors_on_their_fields_and_keeps_the_input(as_role, world, pay, chk):
    response = as_role("engineer").post("/access/requests/new/", {
        "principal": "u.alice", "namespaces": [pay.name, chk.name],
        "reason": "incident 4711", "duration_days": "20"})

    assert response.status_code == 200
    page = html(response)
    assert re.search(rf'class="field has-errors">\s*<label for="id_duration_days">.*?Between 1 and 14 days \(the '
                     rf'maximum for {chk.name}\)\.', page, re.S)
    assert (pay.name, True) in options(page, "namespaces") and (chk.name, True) in options(page, "namespaces")
    assert 'name="duration_days" value="20"' in page and "incident 4711</textarea>" in page
    assert not AccessRequest.objects.exists() and "request.create" not in actions()


def test_reading_the_form_and_the_principals_creates_nothing_and_a_request_creates_its_principal(as_role, world,
                                                                                                  pay):
    from portal.models import AuditEvent as Event
    from topics.models import KafkaPrincipal

    before = Event.objects.count()
    client = as_role("engineer")  # alice has never used the portal: no principal of hers nor of her team's account
    assert client.get("/access/requests/new/").status_code == 200
    assert client.get("/access/credentials/").status_code == 200
    assert client.get("/api/principals/").json()["count"] == 2
    assert not KafkaPrincipal.objects.exists() and Event.objects.count() == before  # reads never write

    client.post("/access/requests/new/", {"principal": "u.alice", "namespaces": [pay.name], "reason": "incident",
                                          "duration_days": "3"})
    assert AccessRequest.objects.get().principal.name == "u.alice"
    assert list(KafkaPrincipal.objects.values_list("name", flat=True)) == ["u.alice"]


def test_request_form_asks_for_what_is_missing_and_keeps_the_rest(as_role, world, pay):
    page = html(as_role("engineer").post("/access/requests/new/", {
        "principal": "u.alice", "namespaces": [pay.name], "reason": " ",
        "duration_days": "3"}))
    assert re.search(r'<label for="id_reason">.*?This field is required\.', page, re.S)
    assert (pay.name, True) in options(page, "namespaces") and 'name="duration_days" value="3"' in page
    assert not AccessRequest.objects.exists()


def test_request_form_refuses_a_principal_that_is_not_mine(as_role, world, pay):
    response = as_role("outsider").post("/access/requests/new/", {
        "principal": "sa.payments-etl", "namespaces": [pay.name], "reason": "x",
        "duration_days": "3"})
    assert response.status_code == 200 and "Select a valid choice" in html(response)
    assert not AccessRequest.objects.exists()


def test_a_request_is_sent_audited_and_shown(as_role, world, chk):
    client = as_role("engineer")
    response = client.post("/access/requests/new/", {
        "principal": "sa.payments-etl", "namespaces": [chk.name],
        "reason": "nightly export", "duration_days": "14"})

    created = AccessRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/access/requests/{created.pk}/"
    assert created.principal.name == "sa.payments-etl" and created.requester == world.engineer
    assert AuditEvent.objects.get(action="request.create").actor_label == "alice"
    page = html(client.get(response["Location"]))
    assert f"Request #{created.pk} sent" in page and "nightly export" in page and "Pending" in page


# --- my requests, a request, withdrawing ----------------------------------------------------------------

def test_my_requests_show_each_namespaces_state_and_the_decisions_so_far(as_role, world, pay, chk):
    both = ask(world, pay, chk)
    approve(world, both, comment="fine for the incident", namespace=pay)
    ask(world, chk, requester=world.outsider)

    client = as_role("engineer")
    page = html(client.get("/access/requests/"))
    assert requests_listed(client.get("/access/requests/")) == [both.pk]  # erin's is not mine
    assert re.search(rf"{pay.name}</a>\s*<span class=\"badge state-ready\">Approved</span>", page)
    assert re.search(rf"{chk.name}</a>\s*<span class=\"badge state-pending\">Pending</span>", page)
    assert "0 of 2 approvals" in page and "Bob approved" in page and "fine for the incident" in page
    assert f'href="/access/requests/{both.pk}/withdraw/"' in page  # still pending: chk is undecided

    assert requests_listed(client.get("/access/requests/", {"state": "approved"})) == []
    assert requests_listed(client.get("/access/requests/", {"state": "pending"})) == [both.pk]


def test_my_requests_are_paginated(as_role, world, pay):
    for _ in range(26):
        ask(world, pay)
    client = as_role("engineer")
    assert "26 in all · page 1 of 2" in html(client.get("/access/requests/"))
    assert len(requests_listed(client.get("/access/requests/", {"page": 2}))) == 1


@pytest.mark.parametrize(("role", "status"), [("engineer", 200), ("owner", 200), ("auditor", 200), ("admin", 200),
                                              ("outsider", 404)])
def test_a_request_is_visible_to_requester_deciders_auditors_and_admins(as_role, world, pay, role, status):
    access_request = ask(world, pay)
    approve(world, access_request)
    response = as_role(role).get(f"/access/requests/{access_request.pk}/")
    assert response.status_code == status
    if status == 200:
        page = html(response)
        assert "ok for a week" in page and pay.topics.get().name in page and "Approved" in page


def test_withdrawing_a_pending_request(as_role, world, pay):
    access_request = ask(world, pay)
    assert as_role("owner").get(f"/access/requests/{access_request.pk}/withdraw/").status_code == 403
    client = as_role("engineer")
    assert "Withdraw request #" in html(client.get(f"/access/requests/{access_request.pk}/withdraw/"))

    response = client.post(f"/access/requests/{access_request.pk}/withdraw/", follow=True)

    access_request.refresh_from_db()
    assert access_request.state == RequestState.WITHDRAWN and "request.withdraw" in actions()
    assert f"Request #{access_request.pk} withdrawn." in html(response)
    again = client.post(f"/access/requests/{access_request.pk}/withdraw/", follow=True)
    assert "Only a pending request can be withdrawn." in html(again)


# --- the approval queue ---------------------------------------------------------------------------------

@pytest.mark.parametrize("role", PEOPLE)
def test_the_queue_holds_what_waits_for_me(as_role, world, pay, role):
    access_request = ask(world, pay)
    page = html(as_role(role).get("/access/approvals/"))
    waiting = role == "owner"  # bob owns pay; alice asked; the others do not own it
    assert (f'action="/access/approvals/{access_request.items.get().pk}/"' in page) is waiting
    assert ("Nothing waits for your decision." in page) is not waiting
    if waiting:
        assert "debug a failing payment" in page and "0 of 1 approval" in page and "u.alice" in page


def test_approving_makes_a_grant_the_requester_sees(as_role, world, pay):
    access_request = ask(world, pay)
    item = access_request.items.get()

    response = as_role("owner").post(f"/access/approvals/{item.pk}/", {"decision": "approve", "comment": "go"},
                                     follow=True)

    assert response.redirect_chain == [("/access/approvals/", 302)]
    assert f"Approved: request #{access_request.pk} for u.alice on {pay.name}." in html(response)
    assert "Nothing waits for your decision." in html(response)
    grant = Grant.objects.get(request_item=item)
    assert grant.state == GrantState.ACTIVE and grant.granted_by == world.owner
    assert principals_listed(as_role("engineer").get("/access/grants/")) == ["u.alice"]
    assert {"request.approve", "grant.create", "request.close"} <= set(actions())
    assert Approval.objects.get().comment == "go"


def test_a_high_namespace_needs_two_approvals_and_the_queue_shows_them(client, world, chk):
    frank, gina = (person(name, "team-checkout", "logwarden-owners") for name in ("frank", "gina"))
    item = ask(world, chk).items.get()
    client.force_login(frank)
    assert "0 of 2 approvals" in html(client.get("/access/approvals/"))
    client.post(f"/access/approvals/{item.pk}/", {"decision": "approve", "comment": "ok by me"})
    assert not Grant.objects.exists()

    client.force_login(gina)
    page = html(client.get("/access/approvals/"))
    assert "1 of 2 approvals" in page and "Frank" in page and "ok by me" in page
    client.post(f"/access/approvals/{item.pk}/", {"decision": "approve", "comment": "ok too"})

    assert Grant.objects.get(request_item=item).topic == chk.topics.get()
    assert actions().count("request.approve") == 2


def test_decisions_need_a_comment_and_keep_the_form(as_role, world, pay):
    item = ask(world, pay).items.get()
    response = as_role("owner").post(f"/access/approvals/{item.pk}/", {"decision": "approve", "comment": " "})
    assert response.status_code == 200
    assert re.search(rf'id="item-{item.pk}".*<label for="id_item{item.pk}_comment">.*This field is required\.',
                     html(response), re.S)
    assert not Approval.objects.exists() and "request.approve" not in actions()


def test_rejecting_closes_the_item_and_the_requester_sees_why(as_role, world, pay):
    access_request = ask(world, pay)
    as_role("owner").post(f"/access/approvals/{access_request.items.get().pk}/",
                          {"decision": "reject", "comment": "use the staging namespace"})
    access_request.refresh_from_db()
    assert access_request.state == RequestState.REJECTED and not Grant.objects.exists()
    page = html(as_role("engineer").get("/access/requests/"))
    assert "Bob <span class=\"error-text\">rejected</span>" in page and "use the staging namespace" in page
    assert "request.reject" in actions()


def test_nobody_approves_their_own_request(as_role, world, pay):
    person("pat", "team-payments", "logwarden-owners")  # another owner of payments, who may decide it
    own = ask(world, pay, requester=world.owner)  # bob asks for himself on the namespace he owns
    item = own.items.get()
    assert f'/access/approvals/{item.pk}/' not in html(as_role("owner").get("/access/approvals/"))
    assert "waits for your decision" not in html(as_role("owner").get(f"/access/requests/{own.pk}/"))

    forged = as_role("owner").post(f"/access/approvals/{item.pk}/", {"decision": "approve", "comment": "me"})

    assert forged.status_code == 403
    alices = ask(world, pay).items.get()
    assert as_role("engineer").post(f"/access/approvals/{alices.pk}/",
                                    {"decision": "approve", "comment": "me"}).status_code == 403
    assert not Approval.objects.exists() and not Grant.objects.exists()


def test_a_first_of_two_approvals_says_so_and_the_pages_say_who_may_still_decide(client, world, chk):
    from django.contrib.auth import get_user_model

    olga = get_user_model().objects.get(username="olga")
    item = ask(world, chk).items.get()
    client.force_login(olga)
    assert "May still decide</dt><dd>Olga, Oscar</dd>" in html(client.get("/access/approvals/"))

    page = html(client.post(f"/access/approvals/{item.pk}/", {"decision": "approve", "comment": "one"}, follow=True))

    assert (f"Approval 1 of 2 recorded, the request stays pending: request #{item.request_id} for u.alice on "
            f"{chk.name}.") in page
    assert "Approved:" not in page
    detail = html(client.get(f"/access/requests/{item.request_id}/"))
    assert re.search(r"1 of 2</td>\s*<td><span class=\"badge state-pending\">Pending</span></td>\s*<td>Oscar</td>",
                     detail)


def test_a_decision_on_an_item_already_decided_is_a_message(as_role, world, pay):
    item = ask(world, pay).items.get()
    client = as_role("owner")
    client.post(f"/access/approvals/{item.pk}/", {"decision": "approve", "comment": "go"})
    response = client.post(f"/access/approvals/{item.pk}/", {"decision": "reject", "comment": "no"})
    assert response.status_code == 200
    assert re.search(r'<div class="message error">[^<]*: approved\.</div>', html(response))
    assert Approval.objects.count() == 1


# --- grants ---------------------------------------------------------------------------------------------

@pytest.fixture
def grants(world, pay, chk):
    """alice on pay (by a request bob approved); erin on chk and payments-etl on pay (by an admin)."""
    alices = approve(world, ask(world, pay))
    erins = access.grant_directly(world.admin, principal=principal_for(world.outsider), topic=chk.topics.get(),
                                  days=5, reason="checkout on call")
    etls = access.grant_directly(world.admin, principal=principal_for(world.service_account.user),
                                 topic=pay.topics.get(), days=5, reason="nightly export")
    return alices, erins, etls


@pytest.mark.parametrize(("role", "expected"), [
    ("engineer", ["sa.payments-etl", "u.alice"]),  # herself and her team's service account
    ("owner", ["sa.payments-etl", "u.alice"]),  # bob: the grants on pay, which his team owns
    ("outsider", ["u.erin"]),
    ("auditor", ["sa.payments-etl", "u.alice", "u.erin"]),
    ("admin", ["sa.payments-etl", "u.alice", "u.erin"]),
])
def test_each_role_sees_the_grants_it_may(as_role, grants, role, expected):
    assert sorted(principals_listed(as_role(role).get("/access/grants/"))) == expected


@pytest.mark.parametrize(("query", "expected"), [
    ({"namespace": "PAY"}, ["sa.payments-etl", "u.alice"]),
    ({"principal": "u.erin"}, ["u.erin"]),
    ({"source": GrantSource.ADMIN}, ["sa.payments-etl", "u.erin"]),
    ({"source": GrantSource.REQUEST}, ["u.alice"]),
    ({"state": GrantState.ACTIVE}, ["sa.payments-etl", "u.alice", "u.erin"]),
    ({"state": GrantState.REVOKED}, []),
])
def test_grant_filters(as_role, grants, pay, query, expected):
    query = {key: pay.name if value == "PAY" else value for key, value in query.items()}
    response = as_role("auditor").get("/access/grants/", query)
    assert sorted(principals_listed(response)) == expected
    if not expected:
        assert "No grants match." in html(response)


def test_owners_revoke_with_a_reason_after_a_confirmation(as_role, world, grants):
    alices = grants[0]
    assert f'href="/access/grants/{alices.pk}/revoke/"' in html(as_role("owner").get("/access/grants/"))
    assert "Revoke the grant of <code>u.alice</code>" in html(as_role("owner").get(
        f"/access/grants/{alices.pk}/revoke/"))

    response = as_role("owner").post(f"/access/grants/{alices.pk}/revoke/", {"reason": " "})

    assert response.status_code == 200 and "This field is required." in html(response)
    alices.refresh_from_db()
    assert alices.state == GrantState.ACTIVE and "grant.revoke" not in actions()

    response = as_role("owner").post(f"/access/grants/{alices.pk}/revoke/", {"reason": "incident closed"},
                                     follow=True)

    assert response.redirect_chain == [("/access/grants/", 302)]
    alices.refresh_from_db()
    assert alices.state == GrantState.REVOKED and alices.ended_by == world.owner
    event = AuditEvent.objects.get(action="grant.revoke")
    assert event.actor_label == "bob" and event.data["reason"] == "incident closed"
    assert "Revoked" in html(response) and "“incident closed”" in html(response)


@pytest.mark.parametrize(("role", "status"), [("engineer", 403), ("outsider", 404), ("auditor", 403),
                                              ("owner", 200), ("admin", 200)])
def test_only_owners_and_admins_revoke(as_role, grants, role, status):
    """A grant one may see but not revoke is a 403; one one may not see (erin's view of alice's) a 404."""
    url = f"/access/grants/{grants[0].pk}/revoke/"
    allowed = status == 200
    assert as_role(role).get(url).status_code == status
    assert (f'href="{url}"' in html(as_role(role).get("/access/grants/"))) is allowed
    if not allowed:
        assert as_role(role).post(url, {"reason": "forged"}).status_code == status
        assert Grant.objects.get(pk=grants[0].pk).state == GrantState.ACTIVE


def test_the_holder_releases_a_grant(as_role, world, grants):
    alices = grants[0]
    page = html(as_role("engineer").get("/access/grants/"))
    assert f'href="/access/grants/{alices.pk}/release/"' in page and f"/access/grants/{alices.pk}/revoke/" not in page
    assert as_role("owner").get(f"/access/grants/{alices.pk}/release/").status_code == 403

    as_role("engineer").post(f"/access/grants/{alices.pk}/release/", {"reason": ""})

    alices.refresh_from_db()
    assert alices.state == GrantState.RELEASED and alices.ended_by == world.engineer
    assert AuditEvent.objects.get(action="grant.release").actor_label == "alice"


@pytest.mark.parametrize("role", PEOPLE)
def test_a_namespace_page_offers_a_request_and_shows_its_grants_to_owners_auditors_and_admins(as_role, grants, pay,
                                                                                               role):
    response = as_role(role).get(f"/namespaces/{pay.name}/")
    page = html(response)
    assert f'href="/access/requests/new/?namespace={pay.name}"' in page
    shown = role in ("owner", "auditor", "admin")
    assert ("Who can read these logs" in page) is shown
    assert sorted(principals_listed(response)) == (["sa.payments-etl", "u.alice"] if shown else [])


def test_a_principals_page_lists_the_grants_i_may_see(as_role, grants):
    response = as_role("owner").get("/access/principals/u.alice/")
    assert principals_listed(response) == ["u.alice"] and "<code>u.alice.</code>" in html(response)
    assert as_role("owner").get("/access/principals/u.nobody/").status_code == 404
    # erin has nothing to do with alice: who alice is stays hidden, exactly as for a principal that does not exist
    assert as_role("outsider").get("/access/principals/u.alice/").status_code == 404
    assert as_role("outsider").get("/access/principals/u.erin/").status_code == 200


def test_an_owner_sees_only_the_items_of_a_request_on_their_namespaces(client, as_role, world, pay, chk):
    from django.contrib.auth import get_user_model

    both = ask(world, pay, chk, reason="two teams")
    client.force_login(get_user_model().objects.get(username="olga"))
    page = html(client.get(f"/access/requests/{both.pk}/"))
    assert f"/namespaces/{chk.name}/" in page and f"/namespaces/{pay.name}/" not in page
    page = html(as_role("engineer").get(f"/access/requests/{both.pk}/"))  # the requester sees all
    assert f"/namespaces/{chk.name}/" in page and f"/namespaces/{pay.name}/" in page


def test_the_grants_list_links_only_to_requests_the_viewer_may_open(as_role, world, chk):
    from django.contrib.auth import get_user_model

    olga, oscar = (get_user_model().objects.get(username=name) for name in ("olga", "oscar"))
    item = ask(world, chk, principal_user=world.service_account.user).items.get()
    access.decide(olga, item, "approve", "one")
    access.decide(oscar, item, "approve", "two")
    link = f'href="/access/requests/{item.request_id}/"'

    bobs = html(as_role("owner").get("/access/grants/"))  # bob acts for payments-etl, neither asked nor decided
    assert "sa.payments-etl" in bobs and f"#{item.request_id}" in bobs and link not in bobs
    assert as_role("owner").get(f"/access/requests/{item.request_id}/").status_code == 404
    assert link in html(as_role("engineer").get("/access/grants/"))  # alice asked
