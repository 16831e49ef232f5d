"""A revision as text, and the unified diff of two revisions: what the UI shows before an apply."""
from __future__ import annotations

import difflib

from shipper.fleet.models import FleetRevision
from shipper.fleet.renderers import yaml_text

CONFIG_ABOVE = "(the config file above)"


def as_text(revision: FleetRevision | None) -> list[str]:
    """The config file, then the manifests, the ConfigMap's data named rather than repeated."""
    if revision is None:
        return []
    manifests = [{**manifest, "data": {revision.config_name: CONFIG_ABOVE}} if manifest["kind"] == "ConfigMap"
                 else manifest for manifest in revision.manifests]
    text = "---\n".join(yaml_text.dump(manifest) for manifest in manifests)
    return [f"# {revision.config_name}\n", *revision.config.splitlines(keepends=True),
            "# manifests\n", *text.splitlines(keepends=True)]


def unified(before: FleetRevision | None, after: FleetRevision) -> list[str]:
    """The changed lines with three lines of context, as `diff -u` prints them."""
    return [line.rstrip("\n") for line in difflib.unified_diff(
        as_text(before), as_text(after), fromfile=f"#{before.number}" if before else "(nothing)",
        tofile=f"#{after.number}")]
