"""The pure diff of a fleet's desired manifests against the objects observed in the cluster.

An object matches when every field we state has the stored value: the server adds defaults (and other managers
add fields) we do not state, so a mapping matches when its keys we give match, and a list when it has as many
items and each matches. Maps we own whole — a ConfigMap's data, labels and annotations of our own keys — must
be equal, so a key added or changed by hand is a difference. A Secret is compared by its metadata only: its
values are never read into a plan.
"""
from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

WHOLE_MAPS = {("data",), ("binaryData",)}
CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"


@dataclass(frozen=True)
class ObjectKey:
    api_version: str
    kind: str
    name: str
    namespace: str | None = None

    @classmethod
    def of(cls, manifest: dict) -> ObjectKey:
        metadata = manifest["metadata"]
        return cls(manifest["apiVersion"], manifest["kind"], metadata["name"], metadata.get("namespace"))

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Difference:
    path: str
    observed: Any
    desired: Any

    def __str__(self) -> str:
        if isinstance(self.observed, str) and isinstance(self.desired, str) and "\n" in self.desired + self.observed:
            return f"{self.path}: {_changed_lines(self.observed, self.desired)}"
        return f"{self.path}: {_short(self.observed)} → {_short(self.desired)}"


@dataclass
class PlanItem:
    key: ObjectKey
    action: str
    manifest: dict
    differences: list[Difference] = field(default_factory=list)


@dataclass
class Plan:
    items: list[PlanItem]

    @property
    def changes(self) -> list[PlanItem]:
        return [item for item in self.items if item.action != UNCHANGED]

    @property
    def empty(self) -> bool:
        return not self.changes


def _changed_lines(observed: str, desired: str, most: int = 12) -> str:
    """A text's changed lines, as "-old | +new", at most `most` of them."""
    lines = [line.strip() for line in difflib.unified_diff(observed.splitlines(), desired.splitlines(), lineterm="")
             if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return " | ".join(lines[:most]) + (f" | … {len(lines) - most} more" if len(lines) > most else "")


def _short(value: Any, length: int = 80) -> str:
    if value is _MISSING:
        return "(absent)"
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= length else text[:length] + "…"


class _Missing:
    def __repr__(self) -> str:
        return "(absent)"


_MISSING = _Missing()


def differences(desired: Any, observed: Any, path: tuple[str, ...] = ()) -> list[Difference]:
    """Where `observed` does not hold what `desired` states (see the module's rules)."""
    where = ".".join(path) or "(object)"
    if isinstance(desired, dict):
        if not isinstance(observed, dict):
            return [Difference(where, observed, desired)]
        found = []
        if path in WHOLE_MAPS:
            for extra in sorted(set(observed) - set(desired)):
                found.append(Difference(f"{where}.{extra}", observed[extra], _MISSING))
        for key, value in desired.items():
            found += differences(value, observed.get(key, _MISSING), (*path, key))
        return found
    if isinstance(desired, list):
        if not isinstance(observed, list) or len(observed) != len(desired):
            return [Difference(where, observed, desired)]
        found = []
        for index, (want, have) in enumerate(zip(desired, observed)):
            found += differences(want, have, (*path, str(index)))
        return found
    return [] if desired == observed else [Difference(where, observed, desired)]


def _compared(manifest: dict) -> dict:
    """The part of a manifest the plan compares: a Secret's metadata only."""
    if manifest["kind"] == "Secret":
        return {"metadata": manifest["metadata"]}
    return manifest


def plan(desired: list[dict], observed: dict[ObjectKey, dict | None]) -> Plan:
    items = []
    for manifest in desired:
        key = ObjectKey.of(manifest)
        current = observed.get(key)
        if current is None:
            items.append(PlanItem(key, CREATE, manifest))
            continue
        found = differences(_compared(manifest), current)
        items.append(PlanItem(key, UPDATE if found else UNCHANGED, manifest, found))
    return Plan(items)
