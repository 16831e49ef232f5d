"""Command line of the service harness.

    python -m portal.devservices up [SERVICE ...] [--profile P]      start (or reuse) and print the env
    python -m portal.devservices down [--profile P]                  stop everything of the profile
    python -m portal.devservices run [SERVICE ...] -- COMMAND ...    start, run COMMAND with the env, stop
"""
from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time

from . import PROFILE_VARIABLE, SERVICE_CLASSES, ServiceError, service, state_root
from .base import signal_group, terminate_groups

COMMAND_GRACE_SECONDS = 20  # for the command's processes to exit after a signal before they are killed


def _start(names: list[str], profile: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for name in names:
        began = time.monotonic()
        print(f"[devservices] starting {name} …", file=sys.stderr, flush=True)
        env.update(service(name, profile).start())
        print(f"[devservices] {name} ready ({time.monotonic() - began:.1f}s)", file=sys.stderr, flush=True)
    return env


def _stop(profile: str) -> None:
    root = state_root(profile)
    for name in reversed(list(SERVICE_CLASSES)):
        if (root / name).exists():
            service(name, profile).stop()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command: list[str] = []
    if "--" in argv:
        split = argv.index("--")
        argv, command = argv[:split], argv[split + 1:]
    parser = argparse.ArgumentParser(prog="python -m portal.devservices")
    parser.add_argument("action", choices=["up", "down", "run"])
    parser.add_argument("services", nargs="*", help=f"default: all ({', '.join(SERVICE_CLASSES)})")
    parser.add_argument("--profile", default="dev", help="state directory under .devservices/ (default: dev)")
    args = parser.parse_args(argv)
    names = args.services or list(SERVICE_CLASSES)

    if args.action == "down":
        _stop(args.profile)
        return 0
    if args.action == "run":
        if not command:
            parser.error("run needs a command after --")
        # SIGTERM while the servers start stops those already started, as Ctrl-C (KeyboardInterrupt) does
        signal.signal(signal.SIGTERM, _exit_on_signal)
    started = False
    try:
        env = _start(names, args.profile)
        started = True
        if args.action == "up":
            for key, value in env.items():
                print(f"export {key}={shlex.quote(value)}")
            return 0
        return _run(command, {**env, PROFILE_VARIABLE: args.profile})
    except ServiceError as exc:
        print(f"[devservices] {exc}", file=sys.stderr)
        return 1
    finally:
        if args.action == "run" or not started:  # `up` leaves what it started running
            print("[devservices] stopping services …", file=sys.stderr, flush=True)
            _stop(args.profile)


def _run(command: list[str], env: dict[str, str]) -> int:
    """Runs the command in a session of its own and waits for it. Ctrl-C and SIGTERM reach its whole process
    group (a shell script's background jobs too, such as `make run`'s worker); once it exits, whatever it left
    running in that group is stopped, so nothing outlives the run."""
    child = subprocess.Popen(command, env={**os.environ, **env}, start_new_session=True)

    def forward(signum: int, _frame) -> None:
        signal_group(child.pid, signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    try:
        return child.wait()
    finally:
        terminate_groups([child.pid], grace=COMMAND_GRACE_SECONDS)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # stopping the servers is not to be interrupted half-way
        signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _exit_on_signal(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    sys.exit(main())
