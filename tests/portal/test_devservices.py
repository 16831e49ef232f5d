"""The real-server harness as `make run` uses it: SIGTERM stops everything a run started, and a development
profile's servers keep their data on disk across a restart (test and benchmark profiles start empty)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest
import redis

from portal.devservices import service, state_root
from portal.devservices.base import PROJECT_ROOT
from tests.helpers import eventually


def _running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (an orphan's exit is reaped by whoever adopted it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _filesystem_of(path: Path) -> str:
    """The type of the filesystem `path` lives on, from the longest mount point containing it."""
    resolved, best = str(path.resolve()), ("", "")
    for line in Path("/proc/mounts").read_text().splitlines():
        _device, mount_point, fstype = line.split()[:3]
        inside = resolved == mount_point or resolved.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) > len(best[0]):
            best = (mount_point, fstype)
    return best[1]


@pytest.fixture
def profile(request):
    """A profile of the harness's own, stopped and removed afterwards; `dev-` profiles are persistent."""
    created = []

    def make(kind: str) -> str:
        name = f"{kind}-{uuid.uuid4().hex[:8]}"
        created.append(name)
        return name

    yield make
    for name in created:
        subprocess.run([sys.executable, "-m", "portal.devservices", "down", "--profile", name], cwd=PROJECT_ROOT,
                       capture_output=True, check=False)
        shutil.rmtree(state_root(name), ignore_errors=True)


def test_sigterm_to_a_run_stops_its_command_the_command_s_background_jobs_and_every_server(tmp_path, profile):
    """`make run` runs a shell script with a background worker and a foreground web server; SIGTERM (from a
    process manager, or `kill`) must stop all of it and the servers, as Ctrl-C does, and orphan nothing."""
    name = profile("sigterm")
    script = tmp_path / "portal.sh"
    web = f"import os, time; open('{tmp_path}/web.pid', 'w').write(str(os.getpid())); time.sleep(300)"
    script.write_text(textwrap.dedent(f"""\
        sleep 300 &  # the worker
        echo $! > {tmp_path}/worker.pid
        echo $$ > {tmp_path}/shell.pid
        {sys.executable} -c "{web}"  # the web server, in the foreground
        """))
    run = subprocess.Popen([sys.executable, "-m", "portal.devservices", "run", "redis", "--profile", name, "--",
                            "bash", str(script)], cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True)
    pid_files = [tmp_path / f"{process}.pid" for process in ("worker", "shell", "web")]
    eventually(lambda: all(f.exists() and f.read_text().strip() for f in pid_files), bool,
               "the command to start its processes", seconds=60)
    redis_pid = int((state_root(name) / "redis" / "redis-server.pid").read_text())
    started = {"redis": redis_pid, **{f.stem: int(f.read_text()) for f in pid_files}}
    assert all(_running(pid) for pid in started.values())

    run.send_signal(signal.SIGTERM)
    try:
        _, stderr = run.communicate(timeout=60)
    finally:
        if run.poll() is None:  # it hangs: what it started is left for the fixture's `down`
            run.kill()

    assert "stopping services" in stderr
    deadline = time.monotonic() + 5  # an orphan adopted by init is reaped a moment later
    while time.monotonic() < deadline and any(_running(pid) for pid in started.values()):
        time.sleep(0.1)
    assert {process: pid for process, pid in started.items() if _running(pid)} == {}


def _restarted_redis(name: str, key: str) -> tuple[bytes | None, str]:
    """Writes `key` into the profile's Redis, restarts it, and reads the key back; also says where its data
    directory is."""
    first = service("redis", name)
    client = redis.Redis.from_url(first.start()["REDIS_URL"])
    client.set(key, b"kept")
    client.close()
    first.stop()
    assert first.running_env() is None
    again = service("redis", name)
    client = redis.Redis.from_url(again.start()["REDIS_URL"])
    try:
        return client.get(key), _filesystem_of(again.dir / "data") if (again.dir / "data").exists() else ""
    finally:
        client.close()
        again.stop()


def test_a_development_profile_s_redis_keeps_its_data_on_disk_across_a_restart_and_a_test_profile_s_does_not(
        profile):
    kept, filesystem = _restarted_redis(profile("dev"), "queued-task")
    assert kept == b"kept"
    assert filesystem not in ("", "tmpfs")

    assert _restarted_redis(profile("test"), "queued-task")[0] is None


def test_a_development_profile_s_kafka_keeps_its_users_and_topics_across_a_restart(profile):
    """The broker of `make run`: the SCRAM users and topics the portal created, and the admin's own login,
    are there after a restart; its log directory is on disk."""
    from topics.kafka.adapter import KafkaAdmin, KafkaConnection
    from topics.kafka.types import ScramUpsert, TopicSpec

    name = profile("dev")
    broker = service("kafka", name)
    admin = KafkaAdmin(KafkaConnection.from_env(broker.start()))
    admin.ensure_topics([TopicSpec("logs.kept")])
    assert admin.upsert_scram_credentials([ScramUpsert("u.kept.a", "a-password-of-32-characters-long")]).done
    eventually(admin.list_scram_users, lambda users: "u.kept.a" in users, "the new SCRAM user")
    broker.stop()

    again = service("kafka", name)
    admin = KafkaAdmin(KafkaConnection.from_env(again.start()))
    assert "logs.kept" in admin.list_topics()
    assert "u.kept.a" in admin.list_scram_users()
    assert _filesystem_of(again.dir / "data") != "tmpfs" and (again.dir / "data" / "meta.properties").exists()
    assert os.stat(again.dir / "identity.json").st_mode & 0o077 == 0  # it holds the admin's password
