"""Shared machinery of the development/test service harness.

Each real server (Kafka, OpenLDAP, the Kubernetes API server, PostgreSQL, Redis) is a `Service`: it installs
what it needs on demand (cached under ~/.cache/logwarden), starts its processes on 127.0.0.1 with a state
directory of its own, waits until it answers, and is stopped by the PIDs it recorded. `start` returns the
environment variables through which the portal and the tests find the server.

A persistent service (the development profiles, see portal.devservices.persistent) keeps its data on disk in
its state directory across restarts; the others start empty each time, on tmpfs where that is faster.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CACHE_DIR = Path(os.environ.get("LOGWARDEN_CACHE", Path.home() / ".cache" / "logwarden"))


class ServiceError(RuntimeError):
    """A service could not be installed or started; the message carries the server's own log tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now (as servers do, despite connections in TIME_WAIT)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def generate_password() -> str:
    return secrets.token_urlsafe(24)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def run_checked(cmd: Sequence[str], what: str, **kwargs) -> subprocess.CompletedProcess:
    """Runs a set-up command; on failure raises ServiceError with the command's own output."""
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-40:]
        raise ServiceError(f"{what} failed (exit {result.returncode}): {' '.join(cmd)}\n" + "\n".join(output))
    return result


def run_build_script(service: str, script: Path) -> str:
    """Runs a build script of scripts/ (a no-op once its binary is cached), streaming its progress to stderr;
    returns the binary's path (the script's last line on stdout)."""
    tail: deque[str] = deque(maxlen=40)
    proc = subprocess.Popen(["bash", str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None and proc.stdout is not None
    for line in proc.stderr:
        tail.append(line.rstrip("\n"))
        print(f"[{service}] {line}", end="", file=sys.stderr, flush=True)
    output = proc.stdout.read().strip().splitlines()
    if proc.wait() != 0 or not output:
        raise ServiceError(f"{service}: {script} failed (exit {proc.returncode}):\n" + "\n".join(tail))
    return output[-1]


class Service:
    """One real server managed by the harness. Subclasses implement `install`, `launch` and `is_ready`."""

    name: str = ""
    ready_timeout: float = 60.0

    def __init__(self, state_root: Path, *, persistent: bool = False):
        self.dir = state_root / self.name
        self.env_file = self.dir / "env.json"
        self.persistent = persistent

    # -- to implement -------------------------------------------------------------------------------
    def install(self) -> None:
        """Obtains binaries/jars (idempotent, cached)."""

    def launch(self) -> dict[str, str]:
        """Prepares the state directory, spawns the processes and returns the service's environment."""
        raise NotImplementedError

    def is_ready(self, env: Mapping[str, str]) -> bool:
        raise NotImplementedError

    def after_ready(self, env: Mapping[str, str]) -> None:
        """Seeds data once the server answers (users, databases)."""

    # -- shared behaviour ---------------------------------------------------------------------------
    def running_env(self) -> dict[str, str] | None:
        """The environment of an instance already running from this state directory, if it answers."""
        if not self.env_file.exists() or not self.pids():
            return None
        env = json.loads(self.env_file.read_text())
        if all(_alive(pid) for pid in self.pids().values()) and self.is_ready(env):
            return env
        return None

    def start(self) -> dict[str, str]:
        env = self.running_env()
        if env is not None:
            return env
        self.stop()
        self.install()
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        env = self.launch()
        self.wait_until(lambda: self.is_ready(env), f"{self.name} to answer")
        self.after_ready(env)
        self.env_file.write_text(json.dumps(env, indent=2))
        return env

    def spawn(self, process: str, cmd: Sequence[str], *, env: Mapping[str, str] | None = None,
              cwd: Path | None = None, user: str | None = None) -> int:
        log = self.log_path(process)
        full_env = {**os.environ, **(env or {})}
        preexec = None
        if user is not None:
            import pwd

            record = pwd.getpwnam(user)
            full_env["HOME"] = record.pw_dir
            preexec = partial(_become, record.pw_uid, record.pw_gid)
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=full_env, cwd=cwd, start_new_session=True, preexec_fn=preexec,
            )
        (self.dir / f"{process}.pid").write_text(str(proc.pid))
        return proc.pid

    def scratch_dir(self, prefix: str, *, base: str | None = None) -> Path:
        """A fresh data directory outside the state directory (removed by `stop`): for servers that must
        reach it as another user, or whose throwaway data is faster on tmpfs."""
        path = Path(tempfile.mkdtemp(prefix=f"logwarden-{prefix}-", dir=base))
        (self.dir / "datadir").write_text(str(path))
        return path

    def data_dir(self, prefix: str, *, tmpfs: bool = False) -> Path:
        """Where the server keeps its data: `data/` in the state directory, kept across restarts, when the
        service is persistent; otherwise a fresh scratch directory (on tmpfs when asked and available)."""
        if self.persistent:
            path = self.dir / "data"
            path.mkdir(mode=0o700, exist_ok=True)
            return path
        return self.scratch_dir(prefix, base="/dev/shm" if tmpfs and os.access("/dev/shm", os.W_OK) else None)

    def discard_data(self) -> None:
        """Stops the service and removes the data a persistent one kept: its next start is a fresh server."""
        self.stop()
        shutil.rmtree(self.dir / "data", ignore_errors=True)

    def log_path(self, process: str) -> Path:
        return self.dir / f"{process}.log"

    def pids(self) -> dict[str, int]:
        if not self.dir.exists():
            return {}
        return {p.stem: int(p.read_text()) for p in self.dir.glob("*.pid")}

    def wait_until(self, check: Callable[[], bool], what: str, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout or self.ready_timeout)
        while time.monotonic() < deadline:
            for process, pid in self.pids().items():
                if not _alive(pid):
                    raise ServiceError(
                        f"{self.name}: process '{process}' exited while waiting for {what}.\n"
                        f"--- {self.log_path(process)} ---\n{log_tail(self.log_path(process))}")
            try:
                if check():
                    return
            except Exception:  # noqa: BLE001 - not answering yet looks like many kinds of error
                pass
            time.sleep(0.25)
        tails = "\n".join(f"--- {self.log_path(p)} ---\n{log_tail(self.log_path(p))}" for p in self.pids())
        raise ServiceError(f"{self.name}: timed out after {timeout or self.ready_timeout:.0f}s waiting for "
                           f"{what}.\n{tails}")

    def stop(self) -> None:
        """Stops every process this service recorded: SIGTERM to its process group, SIGKILL after 15 s."""
        pids = self.pids()
        terminate_groups(pids.values(), grace=15)
        for process in pids:
            (self.dir / f"{process}.pid").unlink(missing_ok=True)
        self.env_file.unlink(missing_ok=True)
        marker = self.dir / "datadir"
        if marker.exists():
            shutil.rmtree(marker.read_text(), ignore_errors=True)
            marker.unlink()


def terminate_groups(leaders: Iterable[int], *, grace: float) -> None:
    """SIGTERM to the process group of each leader, then SIGKILL to whatever of them still runs after `grace`
    seconds: a group outlives its leader while a member (a background job, a worker's child) still runs."""
    leaders = list(leaders)
    for pid in leaders:
        signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(pid) or group_members(pid) for pid in leaders):
        time.sleep(0.1)
    for pid in leaders:
        if _alive(pid) or group_members(pid):
            signal_group(pid, signal.SIGKILL)


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group `pgid`, read from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _ppid, group = stat.read_text().rsplit(") ", 1)[1].split()[:3]
        except (OSError, IndexError, ValueError):
            continue  # gone while we looked
        if int(group) == pgid and state != "Z":
            members.append(int(stat.parent.name))
    return members


def _become(uid: int, gid: int) -> None:
    """Drops privileges in the child, for servers that refuse to run as root."""
    os.setgid(gid)
    os.setuid(uid)


def _alive(pid: int) -> bool:
    try:
        waited, status = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child: fall back to a signal probe
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie is not alive
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
