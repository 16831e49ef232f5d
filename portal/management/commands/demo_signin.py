import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Development only: gives the local demo admin a fresh password and prints how to sign in "
            "(the demo admin and the seeded directory users).")

    def handle(self, *args, **options):
        if settings.ENVIRONMENT == "production":
            raise CommandError("demo_signin is for development only (LOGWARDEN_ENV=production)")
        password = secrets.token_urlsafe(12)
        admin, _ = get_user_model().objects.get_or_create(username="admin", defaults={"email": "admin@localhost"})
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        self.stdout.write("\nLogwarden is starting on http://127.0.0.1:8000/\n")
        self.stdout.write(f"  demo admin (local account): admin / {password}   (new each run)")
        if settings.LDAP_URI:
            from portal.devservices.ldap import DEMO_PEOPLE

            self.stdout.write(f"  directory users ({settings.LDAP_URI}):")
            for person in DEMO_PEOPLE:
                self.stdout.write(f"    {person.uid:<6} / {person.password:<22} groups: {', '.join(person.groups)}")
        self.stdout.write("")
