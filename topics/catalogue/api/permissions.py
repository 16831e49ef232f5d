"""Who may call the catalogue API: each class asks topics.policy."""
from __future__ import annotations

from portal.api.support import PolicyPermission
from topics import policy


class ClusterPermission(PolicyPermission):
    """Cluster connections are platform configuration: auditors and admins read them, admins change them."""

    read_rule = staticmethod(policy.can_read_audit)
    write_rule = staticmethod(policy.can_manage_catalogue)


class CataloguePermission(PolicyPermission):
    """Retention classes, namespaces and topics: anyone signed in reads them, admins change them."""

    read_rule = staticmethod(policy.can_browse_catalogue)
    write_rule = staticmethod(policy.can_manage_catalogue)
