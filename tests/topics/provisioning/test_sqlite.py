"""The embedded default for real: SQLite (a file database, IMMEDIATE transactions) with the lock interface's
file locks. Two reconcile runs of one cluster at once set one password for a pending user, the one handed off.
The suite runs on PostgreSQL, so this runs `sqlite_runs.py` in a process of its own."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT, require_env

pytestmark = pytest.mark.kafka


def test_two_runs_at_once_on_sqlite_set_one_password_the_one_handed_off(tmp_path):
    env = {**{k: v for k, v in os.environ.items()
              if k not in ("DATABASE_URL", "LOGWARDEN_MIGRATE_DATABASE_URL", "REDIS_URL")},
           **require_env("KAFKA_BOOTSTRAP", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.sqlite3'}"}
    done = subprocess.run([sys.executable, "-m", "tests.topics.provisioning.sqlite_runs"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=110)
    assert done.returncode == 0, done.stderr[-3000:]

    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["errors"] == []
    assert report["creates"] == 1  # one SCRAM user created, with one password
    assert report["handed_off_password_reads"] is True
    assert report["try_lock_while_held"] is False
