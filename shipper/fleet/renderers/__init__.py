"""The three renderings of a fleet's config file, each a pure function of a FleetSpec.

Every flavour takes the namespace, pod, pod uid and container from the kubelet's log file path
(/var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log), never from the log line, and writes the record
shape of the brief: log, stream, time, kubernetes{namespace_name, pod_name, pod_id, container_name, host,
labels}, docker.container_id.
"""
from __future__ import annotations

from dataclasses import dataclass

from shipper.fleet.renderers import fluentbit, fluentd, otel
from shipper.fleet.spec import FleetSpec


@dataclass(frozen=True)
class Rendered:
    file_name: str
    text: str
    command: tuple[str, ...]  # the container's args, reading file_name from the config directory
    run_as_user: int  # 0 only where the flavour's image needs it (documented in README.md)


RENDERERS = {"otel": otel, "fluent-bit": fluentbit, "fluentd": fluentd}


def render(spec: FleetSpec) -> Rendered:
    module = RENDERERS[spec.flavour]
    return Rendered(module.FILE_NAME, module.render(spec), module.command(), module.RUN_AS_USER)
