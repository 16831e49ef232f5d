"""People, teams, roles and service accounts.

People come from LDAP; their LDAP groups (mirrored as Django groups at each sign-in) map to teams and roles
through `GroupMapping`, which platform admins edit in the portal. Roles and teams are derived from the
mapping at request time, so an edit takes effect at once and an LDAP removal at the next sign-in.
"""
from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q

from portal.core.limits import MaxTextLength

DNS_LABEL = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"  # RFC 1123 label: Kubernetes names, and ours alike
slug_validator = RegexValidator(DNS_LABEL, "Use lowercase letters, digits and hyphens (DNS-1123 label, at most 63).")


class Role(models.TextChoices):
    ENGINEER = "engineer", "Engineer"
    NAMESPACE_OWNER = "namespace_owner", "Namespace owner"
    AUDITOR = "auditor", "Auditor"
    PLATFORM_ADMIN = "platform_admin", "Platform admin"
    # grants itself short access to any namespace without approval, each use reviewed afterwards
    # (topics.breakglass); an LDAP group maps to it like to every role
    BREAK_GLASS = "break_glass", "Break-glass responder"


class Team(models.Model):
    slug = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, validators=[MaxTextLength()])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


class GroupMapping(models.Model):
    """An LDAP group (by cn) gives its members membership of a team, a role, or both."""

    ldap_group = models.CharField(max_length=200, help_text="The LDAP group's cn, e.g. team-payments")
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="group_mappings")
    role = models.CharField(max_length=32, choices=Role.choices, blank=True)

    class Meta:
        ordering = ["ldap_group"]
        constraints = [
            models.UniqueConstraint(fields=["ldap_group", "team", "role"], name="groupmapping_unique"),
            # NULL teams are distinct in a plain unique constraint: role-only mappings need their own
            models.UniqueConstraint(fields=["ldap_group", "role"], condition=Q(team__isnull=True),
                                    name="groupmapping_unique_role_only"),
            models.CheckConstraint(condition=Q(team__isnull=False) | ~Q(role=""),
                                   name="groupmapping_maps_to_something"),
        ]

    def __str__(self) -> str:
        targets = [str(t) for t in (self.team, self.get_role_display() if self.role else None) if t]
        return f"{self.ldap_group} → {' + '.join(targets)}"


class ServiceAccount(models.Model):
    """A program acting for a team. It signs in to the API with tokens, never with a password."""

    name = models.CharField(max_length=63, unique=True, validators=[slug_validator])
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="service_accounts")
    description = models.TextField(blank=True, validators=[MaxTextLength()])
    # the Django user the API authenticates as; its password is unusable
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_account")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")  # none when the system made it
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """An API token of a service account. Only its SHA-256 is kept: the token is shown once."""

    service_account = models.ForeignKey(ServiceAccount, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True)  # public part, to find the row and to show
    digest = models.CharField(max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")  # none when the system made it
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.service_account} / {self.name} ({self.prefix}…)"


class Notification(models.Model):
    """A message to one person (a review reminder, a break-glass use, a failed verification): shown in the
    portal until read, and sent by email when the person has an address."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True, validators=[MaxTextLength()])
    link = models.CharField(max_length=500, blank=True)  # a path in the portal, to the thing to look at
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return f"{self.recipient} / {self.subject}"
