"""Notifications: one portal copy per person, mailed after commit, visible to its recipient only."""
import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import notifications
from accounts.models import Notification, Role
from accounts.services.identity import people_with_role
from tests.factories import person

pytestmark = pytest.mark.django_db


def test_notify_role_reaches_each_holder_once_in_the_portal_and_by_mail(world, django_capture_on_commit_callbacks):
    second_auditor = person("cora", "logwarden-auditors", "logwarden-owners")
    with django_capture_on_commit_callbacks(execute=True):
        count = notifications.notify_role(Role.AUDITOR, "Audit verification failed", "2 broken links",
                                          link="/audit/verification/")
    assert count == 2
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"carol", "cora"}
    assert sorted(m.to[0] for m in mail.outbox) == [world.auditor.email, second_auditor.email]
    assert mail.outbox[0].subject == "[Logwarden] Audit verification failed"
    assert "http://127.0.0.1:8000/audit/verification/" in mail.outbox[0].body


def test_no_mail_leaves_when_the_decision_rolls_back(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            notifications.notify([world.owner], "Review due", "in 7 days")
            raise RuntimeError("the decision failed")
    assert not Notification.objects.exists() and mail.outbox == []


def test_superusers_count_as_platform_admins_and_service_accounts_are_never_notified(world):
    root = person("root", superuser=True)
    assert set(people_with_role(Role.PLATFORM_ADMIN)) == {world.admin, root}
    assert notifications.notify([world.service_account.user, world.owner, world.owner], "x", "y") == 2


def test_the_page_and_the_api_show_only_ones_own_and_mark_them_read(world, client):
    notifications.notify([world.owner], "Review due", "payments: 3 grants")
    notifications.notify([world.engineer], "Break-glass used", "by dave")
    client.force_login(world.owner)
    page = client.get(reverse("notification-list"))
    assert page.status_code == 200
    assert b"Review due" in page.content and b"Break-glass used" not in page.content
    assert b'title="unread">1<' in page.content
    assert client.post(reverse("notifications-read")).status_code == 302
    assert notifications.unread_count(world.owner) == 0 and notifications.unread_count(world.engineer) == 1

    api = APIClient()
    api.force_authenticate(world.engineer)
    listed = api.get("/api/notifications/?unread=true").json()
    assert [n["subject"] for n in listed["results"]] == ["Break-glass used"]
    other = Notification.objects.get(recipient=world.owner)
    assert api.get(f"/api/notifications/{other.pk}/").status_code == 404
    assert api.post("/api/notifications/mark-read/").json() == {"marked_read": 1}
    assert api.get("/api/notifications/?unread=true").json()["results"] == []
