from django import forms
from django.contrib.auth.forms import AuthenticationForm

from accounts.ldap_backend import DirectoryUnavailable


class PortalAuthenticationForm(AuthenticationForm):
    """Sign-in form: a directory outage is shown as a clear error, never as a server error."""

    def clean(self):
        try:
            return super().clean()
        except DirectoryUnavailable as exc:
            raise forms.ValidationError(str(exc), code="directory_unavailable") from None
