"""Audited changes of rows: validated (`full_clean`), written and recorded in one transaction. Used directly
for rows with no domain service (teams, Kafka clusters) and by the services that add follow-up work.

The action is `<model in snake case>.<create|update|delete>` (team.create, kafka_cluster.update), the naming
the domain services use. Related rows are recorded by their name, never as objects.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from portal.core import audit


def kind(instance: models.Model) -> str:
    """KafkaCluster → kafka_cluster."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(instance).__name__).lower()


def _label(value: object) -> object:
    """A JSON-ready stand-in: related rows by slug or name, times in ISO 8601."""
    if isinstance(value, models.Model):
        return str(getattr(value, "slug", None) or getattr(value, "name", None) or value.pk)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def save(actor, instance: models.Model, *, context: Mapping[str, Any] | None = None, **changes) -> set[str]:
    """Creates `instance` (unsaved) or changes it; returns the fields whose value changed (all given ones on
    creation). Raises django's ValidationError by field, leaving a saved instance as the database has it.
    `context` is added to the audit event (where the change came from, such as the admin site)."""
    context = dict(context or {})
    creating = instance._state.adding
    with transaction.atomic():
        before = {} if creating else {key: _label(getattr(instance, key)) for key in changes}
        for key, value in changes.items():
            setattr(instance, key, value)
        try:
            instance.full_clean()
        except ValidationError:
            if not creating:
                instance.refresh_from_db()
            raise
        instance.save()
        if creating:  # the whole new row, defaults included
            audit.record(actor, f"{kind(instance)}.create", instance, **context, **{
                field.name: _label(getattr(instance, field.name)) for field in instance._meta.concrete_fields
                if not field.primary_key})
            return set(changes)
        diff = {key: {"from": before[key], "to": _label(value)} for key, value in changes.items()
                if before[key] != _label(value)}
        if diff:
            audit.record(actor, f"{kind(instance)}.update", instance, **context, changes=diff)
        return set(diff)


def delete(actor, instance: models.Model, *, context: Mapping[str, Any] | None = None) -> None:
    """Raises django's ProtectedError (and records nothing) while other rows still use `instance`."""
    with transaction.atomic():
        audit.record(actor, f"{kind(instance)}.delete", instance, **(context or {}))
        instance.delete()
