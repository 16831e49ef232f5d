"""The shipper's collector as a local process: the OpenTelemetry Collector binary (portal.devservices.otelcol) on a
fleet's rendered config, with the environment the DaemonSet's pod would give it (the Kafka credential from its
Secret, the node name, and a kubeconfig for k8s_attributes). For `make run`'s demo and the end-to-end tests."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from shipper.fleet.renderers import otel
from shipper.fleet.spec import NODE_ENV, PASSWORD_ENV, USERNAME_ENV


class LocalCollector:
    def __init__(self, binary: Path, config: str, workdir: Path, *, username: str, password: str, node: str,
                 kubeconfig: str | None = None):
        self.binary, self.workdir = Path(binary), Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_file = self.workdir / "collector.yaml"
        self.log_file = self.workdir / "collector.log"
        self.environment = {"PATH": os.environ.get("PATH", ""), NODE_ENV: node}
        if kubeconfig:
            self.environment["KUBECONFIG"] = kubeconfig
        self.process: subprocess.Popen | None = None
        self.configure(config, username=username, password=password)

    def configure(self, config: str, *, username: str, password: str) -> None:
        """The config and credential the next start uses (a restart with a new Secret, as a rolling pod does)."""
        self.config_file.write_text(config, encoding="utf-8")
        self.environment.update({USERNAME_ENV: username, PASSWORD_ENV: password})

    def start(self) -> None:
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen([str(self.binary), *otel.arguments(str(self.config_file))],
                                            env=self.environment, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: what a node losing power or an OOM kill does; nothing is flushed."""
        self._signal(signal.SIGKILL, timeout=10)

    def stop(self, timeout: float = 20) -> None:
        """SIGTERM and wait (what a pod's termination does), then SIGKILL if it does not exit."""
        if self._signal(signal.SIGTERM, timeout=timeout) is None:
            self.kill()

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def _signal(self, signum: int, *, timeout: float) -> int | None:
        if not self.running():
            return self.process.returncode if self.process else 0
        self.process.send_signal(signum)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return self.process.returncode
            time.sleep(0.05)
        return None

    def __enter__(self) -> LocalCollector:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
