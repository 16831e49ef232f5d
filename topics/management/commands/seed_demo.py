from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import GroupMapping, Role, Team
from portal.core.audit import SYSTEM
from topics.catalogue import services as catalogue
from topics.models import Namespace

TEAMS = {"payments": "Payments", "checkout": "Checkout"}
MAPPINGS = [("team-payments", "payments", ""), ("team-checkout", "checkout", ""),
            ("logwarden-owners", None, Role.NAMESPACE_OWNER), ("logwarden-auditors", None, Role.AUDITOR),
            ("logwarden-admins", None, Role.PLATFORM_ADMIN)]
# Every namespace must be approvable by the demo directory's people (portal.devservices.ldap.DEMO_PEOPLE): each
# team has one owner (bob, frank), so none is of a sensitivity that needs two approvers, and each has an owner.
NAMESPACES = [("payments", "payments", "standard"), ("payments-batch", "payments", "standard"),
              ("checkout", "checkout", "standard"), ("search", "checkout", "low")]


class Command(BaseCommand):
    help = ("Development only: teams and LDAP group mappings for the demo directory, and a few namespaces "
            "(registered by hand, so their topics are created on the broker). Idempotent.")

    def handle(self, *args, **options):
        if settings.ENVIRONMENT == "production":
            raise CommandError("seed_demo is for development only (LOGWARDEN_ENV=production)")
        with transaction.atomic():
            teams = {slug: Team.objects.get_or_create(slug=slug, defaults={"name": name})[0]
                     for slug, name in TEAMS.items()}
            for group, team, role in MAPPINGS:
                GroupMapping.objects.get_or_create(ldap_group=group, team=teams.get(team), role=role)
            for name, team, sensitivity in NAMESPACES:
                if not Namespace.objects.filter(name=name).exists():
                    catalogue.register_namespace(SYSTEM, name=name, owner_team=teams.get(team),
                                                 sensitivity=sensitivity, description="Demo namespace")
        self.stdout.write(f"demo catalogue: {len(TEAMS)} teams, {len(MAPPINGS)} group mappings, "
                          f"{Namespace.objects.count()} namespaces")
