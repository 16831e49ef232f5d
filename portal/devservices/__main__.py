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

from . import SERVICE_CLASSES, ServiceError, service, state_root


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

    try:
        if args.action == "down":
            _stop(args.profile)
            return 0
        if args.action == "up":
            env = _start(names, args.profile)
            for key, value in env.items():
                print(f"export {key}={shlex.quote(value)}")
            return 0
        if not command:
            parser.error("run needs a command after --")
        env = _start(names, args.profile)
    except ServiceError as exc:
        print(f"[devservices] {exc}", file=sys.stderr)
        _stop(args.profile)
        return 1

    child = subprocess.Popen(command, env={**os.environ, **env})
    # Ctrl-C reaches the child through the terminal; we wait for it, then stop the servers.
    signal.signal(signal.SIGINT, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        return child.wait()
    finally:
        print("[devservices] stopping services …", file=sys.stderr, flush=True)
        _stop(args.profile)


if __name__ == "__main__":
    sys.exit(main())
