"""`{% load catalogue %}` — display filters of the catalogue pages."""
from django import template

from topics.catalogue.tables import human_duration, retention_label

register = template.Library()
register.filter("duration", human_duration)
register.filter("retention", retention_label)
