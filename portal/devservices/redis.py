"""A real Redis server (Debian's redis-server) for Celery: persisted in an append-only file for the development
profiles (queued tasks survive a restart), without persistence for the others."""
from __future__ import annotations

import shutil
import socket
from collections.abc import Mapping
from urllib.parse import urlparse

from .base import Service, ServiceError, free_port


class RedisService(Service):
    name = "redis"
    ready_timeout = 20.0

    def install(self) -> None:
        if not shutil.which("redis-server"):
            raise ServiceError("redis: `redis-server` is not installed (scripts/install-system-deps.sh)")

    def launch(self) -> dict[str, str]:
        port = free_port()
        persistence = (["--appendonly", "yes", "--dir", str(self.data_dir("redis"))] if self.persistent
                       else ["--appendonly", "no", "--dir", str(self.dir)])
        self.spawn("redis-server", ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                    *persistence])
        return {"REDIS_URL": f"redis://127.0.0.1:{port}/0"}

    def is_ready(self, env: Mapping[str, str]) -> bool:
        url = urlparse(env["REDIS_URL"])
        with socket.create_connection((url.hostname, url.port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
