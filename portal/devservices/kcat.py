"""kcat linked against a current librdkafka: the command-line Kafka client the tests and benchmarks run.

Debian 12's kcat links librdkafka 2.0.2, whose SCRAM authentication fails against Kafka 4.x, so
scripts/build-kcat.sh builds one (run by `make install`, cached at ~/.cache/logwarden/kcat/bin/kcat);
LOGWARDEN_KCAT names another binary to use instead.
"""
from __future__ import annotations

from pathlib import Path

from .base import PROJECT_ROOT, ServiceError, run_checked

BUILD_SCRIPT = PROJECT_ROOT / "scripts" / "build-kcat.sh"


def kcat_binary() -> Path:
    """The path of kcat: $LOGWARDEN_KCAT, or the cached build (built first if missing: a few minutes)."""
    output = run_checked(["bash", str(BUILD_SCRIPT)], "building kcat").stdout.strip().splitlines()
    if not output:
        raise ServiceError(f"{BUILD_SCRIPT} printed no path")
    return Path(output[-1])
