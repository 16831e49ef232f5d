"""A node's container log directory as the kubelet lays it out, for the demo and the end-to-end tests:
/var/log/pods/<namespace>_<pod>_<uid>/<container>/0.log in the CRI format (`<RFC 3339 time> <stream> <F|P>
<text>`), with the /var/log/containers/<pod>_<namespace>_<container>-<container id>.log links to them."""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path


@dataclass(frozen=True)
class ContainerLog:
    namespace: str
    pod: str
    uid: str
    container: str
    container_id: str

    def pod_file(self, log_root: Path) -> Path:
        return log_root / "pods" / f"{self.namespace}_{self.pod}_{self.uid}" / self.container / "0.log"

    def link(self, log_root: Path) -> Path:
        return log_root / "containers" / f"{self.pod}_{self.namespace}_{self.container}-{self.container_id}.log"


def cri_line(text: str, *, stream: str = "stdout", at: datetime | None = None, partial: bool = False) -> str:
    """One line as the container runtime writes it (nanosecond time, `P` for a line continued on the next)."""
    at = at or datetime.now(timezone.utc)
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"
    return f"{stamp} {stream} {'P' if partial else 'F'} {text}\n"


class LogDirectory:
    """The log root of one simulated node (what the shipper mounts at /var/log)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def add(self, log: ContainerLog) -> Path:
        """Creates the container's log file and its /var/log/containers link (idempotent); returns the file."""
        path = log.pod_file(self.root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        link = log.link(self.root)
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            os.symlink(path, link)
        return path

    def write(self, log: ContainerLog, texts: list[str], *, stream: str = "stdout") -> None:
        """Appends one CRI line per text, flushed at once as a runtime does."""
        with self.add(log).open("a", encoding="utf-8") as out:
            out.write("".join(cri_line(text, stream=stream) for text in texts))
