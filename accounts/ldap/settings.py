"""django-auth-ldap settings built from environment variables (the LDAP adapter's configuration half).

    LDAP_URI             ldap://host:port/ of the directory; sign-in through LDAP is on when it is set
    LDAP_BIND_DN         the portal's own account for looking people and groups up (empty: anonymous)
    LDAP_BIND_PASSWORD   its password (required with LDAP_BIND_DN)
    LDAP_USER_BASE       where people are searched by uid
    LDAP_GROUP_BASE      where groupOfNames groups are searched; every group of a person becomes a Django group
    LDAP_ADMIN_GROUP_DN  members are Django staff and superusers (default: cn=logwarden-admins,<LDAP_GROUP_BASE>)
    LDAP_PEOPLE_FILTER   who the directory lists as current people (default: (objectClass=person)); exclude
                         disabled entries here, e.g. (&(objectClass=person)(!(employeeType=disabled)))

Flags and groups are refreshed at every sign-in and by the periodic directory sync (accounts.ldap.sync), which
also disables people the directory no longer lists.
"""
from __future__ import annotations

import os
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from portal.core.config import env_str


def ldap_settings(uri: str) -> dict[str, Any]:
    """The AUTH_LDAP_* settings for `uri`, or none when LDAP is not configured."""
    if not uri:
        return {}
    import ldap
    from django_auth_ldap.config import GroupOfNamesType, LDAPSearch

    user_base = _required("LDAP_USER_BASE", "ou=people,dc=example,dc=org")
    group_base = _required("LDAP_GROUP_BASE", "ou=groups,dc=example,dc=org")
    bind_dn = env_str("LDAP_BIND_DN")
    # Verbatim, not stripped: spaces at either end may be part of a password.
    bind_password = os.environ.get("LDAP_BIND_PASSWORD", "")
    if bind_dn and not bind_password:
        # A DN with an empty password is an "unauthenticated bind", which servers refuse or treat as anonymous.
        raise ImproperlyConfigured("LDAP_BIND_PASSWORD: required when LDAP_BIND_DN is set")
    people_filter = env_str("LDAP_PEOPLE_FILTER", "(objectClass=person)")
    if not (people_filter.startswith("(") and people_filter.endswith(")")
            and people_filter.count("(") == people_filter.count(")")):
        raise ImproperlyConfigured(f"LDAP_PEOPLE_FILTER: an LDAP filter in balanced parentheses, such as "
                                   f"(objectClass=person), not {people_filter!r}")
    admin_group = env_str("LDAP_ADMIN_GROUP_DN", f"cn=logwarden-admins,{group_base}")
    return {
        "AUTH_LDAP_SERVER_URI": uri,
        "AUTH_LDAP_BIND_DN": bind_dn,
        "AUTH_LDAP_BIND_PASSWORD": bind_password,
        # a person the filter leaves out (disabled) cannot sign in, and the directory sync disables them
        "AUTH_LDAP_USER_SEARCH": LDAPSearch(user_base, ldap.SCOPE_SUBTREE, f"(&{people_filter}(uid=%(user)s))"),
        "LOGWARDEN_LDAP_PEOPLE_SEARCH": LDAPSearch(user_base, ldap.SCOPE_SUBTREE, people_filter, ["uid"]),
        "AUTH_LDAP_GROUP_SEARCH": LDAPSearch(group_base, ldap.SCOPE_SUBTREE, "(objectClass=groupOfNames)"),
        "AUTH_LDAP_GROUP_TYPE": GroupOfNamesType(name_attr="cn"),
        # The user's Django groups become exactly their LDAP groups at each sign-in, removals included.
        "AUTH_LDAP_MIRROR_GROUPS": True,
        "AUTH_LDAP_ALWAYS_UPDATE_USER": True,
        "AUTH_LDAP_USER_ATTR_MAP": {"first_name": "givenName", "last_name": "sn", "email": "mail"},
        "AUTH_LDAP_USER_FLAGS_BY_GROUP": {"is_staff": admin_group, "is_superuser": admin_group},
        # Permissions come from the mirrored Django groups through ModelBackend; no second lookup in LDAP.
        "AUTH_LDAP_FIND_GROUP_PERMS": False,
        # A directory that does not answer must fail the sign-in within seconds, not hang the request.
        "AUTH_LDAP_CONNECTION_OPTIONS": {ldap.OPT_NETWORK_TIMEOUT: 5, ldap.OPT_TIMEOUT: 5},
    }


def _required(name: str, example: str) -> str:
    value = env_str(name)
    if not value:
        raise ImproperlyConfigured(f"{name}: required when LDAP_URI is set (for example {example})")
    return value
