"""Forms of the identity pages. The services validate, save and audit; these collect and pre-check input."""
from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone

from accounts.models import Role, ServiceAccount, Team
from portal.core.throttles import RateLimit

DEFAULT_TOKEN_LIFETIME = datetime.timedelta(days=90)


class SignInForm(AuthenticationForm):
    """Django's sign-in form; failed sign-ins count against the address (the `sign_in` rate), and past the rate
    no password is checked at all, locally or against LDAP, until the window has passed."""

    def clean(self):
        limit = RateLimit("sign_in")
        if limit.exceeded(self.request):
            raise forms.ValidationError(f"Too many failed sign-ins from your address: try again in "
                                        f"{int(limit.wait() or 1)} seconds.", code="throttled")
        try:
            return super().clean()
        except forms.ValidationError:
            limit.count(self.request)
            raise


class ServiceAccountForm(forms.ModelForm):
    """Never saved by itself: accounts.services.service_accounts.create also makes the account's API user."""

    class Meta:
        model = ServiceAccount
        fields = ("name", "description")
        widgets = {"description": forms.TextInput()}
        help_texts = {"name": "Lowercase letters, digits and hyphens, e.g. payments-etl."}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, auto_id="id_account_%s", **kwargs)  # unique beside the token forms


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. ci or airflow.")
    expires_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="The token stops working at the start of this day (UTC). "
                                           "Empty: it never expires.")

    def __init__(self, *args, account: ServiceAccount, **kwargs) -> None:
        # a team page has one of these per service account: ids must differ, field names stay the same
        super().__init__(*args, auto_id=f"id_token_{account.name}_%s", **kwargs)
        self.fields["expires_on"].initial = timezone.localdate() + DEFAULT_TOKEN_LIFETIME

    def clean_expires_on(self) -> datetime.date | None:
        day = self.cleaned_data["expires_on"]
        if day is not None and day <= timezone.localdate():
            raise forms.ValidationError("Choose a day after today.")
        return day

    @property
    def expires_at(self) -> datetime.datetime | None:
        day = self.cleaned_data["expires_on"]
        return None if day is None else timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


class GroupMappingForm(forms.Form):
    """accounts.services.mappings.create validates (duplicates), saves and audits."""

    ldap_group = forms.CharField(label="LDAP group", max_length=200, help_text="The group's cn, e.g. team-payments.")
    team = forms.ModelChoiceField(Team.objects.all(), required=False, empty_label="—")
    role = forms.ChoiceField(choices=[("", "—"), *Role.choices], required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, auto_id="id_mapping_%s", **kwargs)  # unique beside the filter form

    def clean(self) -> dict:
        cleaned = super().clean()
        if "team" not in self.errors and not cleaned.get("team") and not cleaned.get("role"):
            raise forms.ValidationError("Choose a team, a role, or both.")
        return cleaned
