"""A revision as text, and the unified diff of two revisions: what the UI shows before an apply."""
from __future__ import annotations

import difflib

import yaml

from shipper.fleet.models import FleetRevision


def as_text(revision: FleetRevision | None) -> list[str]:
    if revision is None:
        return []
    manifests = yaml.safe_dump_all(revision.manifests, sort_keys=False, width=10_000)
    return [f"# {revision.config_name}\n", *revision.config.splitlines(keepends=True),
            "# manifests\n", *manifests.splitlines(keepends=True)]


def unified(before: FleetRevision | None, after: FleetRevision) -> list[str]:
    """The changed lines with three lines of context, as `diff -u` prints them."""
    return [line.rstrip("\n") for line in difflib.unified_diff(
        as_text(before), as_text(after), fromfile=f"#{before.number}" if before else "(nothing)",
        tofile=f"#{after.number}")]
