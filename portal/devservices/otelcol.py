"""The OpenTelemetry Collector distribution the shipper runs (deploy/otelcol/builder.yaml: file_log, k8s_attributes,
transform, kafka exporter, file_storage, memory_limiter, batch, all v0.155.0).

No registry ships a collector binary with these components, so scripts/build-otelcol.sh builds one from the Go
module proxy (run by `make install`, cached at ~/.cache/logwarden/otelcol/<recipe>/otelcol-logwarden, about 6.5
minutes on 2 idle cores the first time); LOGWARDEN_OTELCOL names another binary to use instead.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from .base import PROJECT_ROOT, ServiceError

BUILD_SCRIPT = PROJECT_ROOT / "scripts" / "build-otelcol.sh"


def otelcol_binary() -> Path:
    """The path of the collector: $LOGWARDEN_OTELCOL, or the cached build (built first if missing: the build's
    progress goes to stderr, so a first `make run` shows it)."""
    result = subprocess.run(["bash", str(BUILD_SCRIPT)], stdout=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise ServiceError(f"building the OpenTelemetry Collector failed (exit {result.returncode}): {BUILD_SCRIPT}")
    output = result.stdout.strip().splitlines()
    if not output:
        raise ServiceError(f"{BUILD_SCRIPT} printed no path")
    return Path(output[-1])
