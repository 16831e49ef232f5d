"""`{% load policy %}` — ask accounts.policy from a template, e.g. `{% if user|may:"manage_catalogue" %}`.

Only the rules about a person alone (no object) are reachable this way; views pass object-level answers.
"""
from django import template

from accounts import policy

register = template.Library()

RULES = {
    "browse_catalogue": policy.can_browse_catalogue,
    "manage_catalogue": policy.can_manage_catalogue,
    "read_audit": policy.can_read_audit,
}


@register.filter
def may(user, rule: str) -> bool:
    return RULES[rule](user)
