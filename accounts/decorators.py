"""The decorator every portal page wears: signed in, then allowed to use the portal at all."""
from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required

from accounts import policy
from portal.web.pages import require


def portal_page(view):
    """Sign-in first (else the login page), then policy.can_browse_catalogue (else 403)."""
    @wraps(view)
    def checked(request, *args, **kwargs):
        require(policy.can_browse_catalogue(request.user))
        return view(request, *args, **kwargs)
    return login_required(checked)
