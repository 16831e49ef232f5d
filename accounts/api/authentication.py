from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from rest_framework import authentication, exceptions

from accounts.services import tokens
from portal.core.throttles import RateLimit


class ServiceAccountTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer lw_…` — a service account's API token. The scheme is case-insensitive (RFC 9110)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1").split()
        if not header or header[0].lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        # refused tokens count against the address; past the rate, no token is even looked at (no guessing)
        limit = RateLimit("token_failure")
        if limit.exceeded(request):
            raise exceptions.Throttled(limit.wait())
        try:
            account = tokens.authenticate(header[1])
        except tokens.TokenRejected as exc:
            limit.count(request)
            raise exceptions.AuthenticationFailed(f"Token refused: {exc}.") from None
        return account.user, account

    def authenticate_header(self, request):
        return self.keyword


class ServiceAccountTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token authentication in the OpenAPI schema (drf-spectacular)."""

    target_class = ServiceAccountTokenAuthentication
    name = "serviceAccountToken"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix=self.target.keyword)
