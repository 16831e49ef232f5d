"""Sign-in against the organisation's LDAP directory (django-auth-ldap), with directory faults made visible.

django-auth-ldap logs any LDAP error and then reports a failed sign-in, so a directory that is down, or that
refuses the portal's own account, would look to people like a wrong password. PortalLDAPBackend turns these
faults into DirectoryUnavailable, whose message names the setting to check. A wrong password or an unknown
user stays an ordinary failed authentication (None).

DirectoryUnavailable is a ValidationError, so Django's AuthenticationForm (the stock LoginView and the admin
login) shows its message as the form's error; other callers of authenticate() may catch it.
"""
from __future__ import annotations

import ldap
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django_auth_ldap.backend import LDAPBackend, _LDAPUser, ldap_error

# Errors that mean the directory could not be asked, as opposed to an answer about the credentials.
_UNREACHABLE = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR)


class DirectoryUnavailable(ValidationError):
    """The directory cannot be used for sign-in; the message is fit for the login page."""

    def __init__(self, message: str):
        super().__init__(message, code="directory_unavailable")

    def __str__(self) -> str:
        return self.message


class PortalLDAPBackend(LDAPBackend):
    """django-auth-ldap's backend; faults of the directory raise DirectoryUnavailable (see `_directory_fault`)."""

    def listed_usernames(self) -> set[str]:
        """The uids of everyone LDAP_PEOPLE_FILTER finds under LDAP_USER_BASE, lowercased, for the directory sync.
        The search runs on django-auth-ldap's own connection, opened and bound exactly as for a sign-in (URI,
        connection and global options, StartTLS, LDAP_BIND_DN); any LDAP error raises DirectoryUnavailable
        (naming the settings) rather than returning a partial list."""
        directory = _LDAPUser(self, username="")  # how django-auth-ldap holds a connection; no one is looked up
        try:
            connection = directory.connection
            try:
                found = django_settings.LOGWARDEN_LDAP_PEOPLE_SEARCH.execute(connection)
            finally:
                connection.unbind_s()
        except ldap.LDAPError as exc:
            raise DirectoryUnavailable(
                f"The directory sync could not list people (LDAP_URI={self.settings.SERVER_URI}, LDAP_USER_BASE, "
                f"LDAP_PEOPLE_FILTER): {type(exc).__name__}.") from exc
        return {uid.lower() for _dn, attrs in found for uid in attrs.get("uid", ())}


def _directory_fault(sender, context, user, request, exception, **kwargs):
    """Receives the LDAP errors django-auth-ldap caught; raising here propagates out of authenticate()."""
    settings = sender().settings
    if isinstance(exception, _UNREACHABLE):
        raise DirectoryUnavailable(
            f"The directory (LDAP_URI={settings.SERVER_URI}) is not answering; try again later.") from exception
    # The user's own wrong password never arrives here (django-auth-ldap handles it as a failed sign-in), so a
    # rejected bind here is the portal's own account being refused.
    if isinstance(exception, ldap.INVALID_CREDENTIALS):
        raise DirectoryUnavailable(
            f"The directory (LDAP_URI={settings.SERVER_URI}) refused the portal's own account "
            f"(LDAP_BIND_DN={settings.BIND_DN}); check LDAP_BIND_DN and LDAP_BIND_PASSWORD.") from exception


ldap_error.connect(_directory_fault, sender=PortalLDAPBackend, dispatch_uid="accounts.ldap.backend.directory_fault")
