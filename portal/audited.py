"""Audited changes of rows that have no domain service of their own: teams, Kafka clusters, and deleting an
unused retention class. Each change is validated (`full_clean`), written and recorded in one transaction.

The action is `<model in snake case>.<create|update|delete>` (team.create, kafka_cluster.update), the naming
the domain services use. Related rows are recorded by their name, never as objects.
"""
from __future__ import annotations

import re

from django.db import models, transaction

from portal import audit


def kind(instance: models.Model) -> str:
    """KafkaCluster → kafka_cluster."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(instance).__name__).lower()


def _label(value: object) -> object:
    if isinstance(value, models.Model):
        return str(getattr(value, "slug", None) or getattr(value, "name", None) or value.pk)
    return value


def save(actor, instance: models.Model, **changes) -> models.Model:
    """Creates `instance` (unsaved) or changes it; raises django's ValidationError by field."""
    creating = instance._state.adding
    with transaction.atomic():
        before = {} if creating else {key: _label(getattr(instance, key)) for key in changes}
        for key, value in changes.items():
            setattr(instance, key, value)
        instance.full_clean()
        instance.save()
        if creating:
            audit.record(actor, f"{kind(instance)}.create", instance,
                         **{key: _label(value) for key, value in changes.items()})
        else:
            diff = {key: {"from": before[key], "to": _label(value)} for key, value in changes.items()
                    if before[key] != _label(value)}
            if diff:
                audit.record(actor, f"{kind(instance)}.update", instance, changes=diff)
    return instance


def delete(actor, instance: models.Model) -> None:
    """Raises django's ProtectedError (and records nothing) while other rows still use `instance`."""
    with transaction.atomic():
        audit.record(actor, f"{kind(instance)}.delete", instance)
        instance.delete()
