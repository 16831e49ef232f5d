"""`{% load provisioning %}` — display filters of the provisioning pages (no queries: pages get their rows from
views)."""
from django import template

from topics.provisioning.tables import broker_changes

register = template.Library()
register.filter("broker_changes", broker_changes)
