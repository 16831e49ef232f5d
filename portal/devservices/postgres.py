"""A real PostgreSQL server (Debian's packages) in a data directory of the harness's own.

PostgreSQL refuses to run as root, so as root the cluster is owned by and run as the `postgres` user, in a
directory under /tmp that this user can reach (the project checkout may sit below a private directory).

Two roles, as in production (portal/core/database_roles.py): `logwarden` owns the database and runs the
migrations (LOGWARDEN_MIGRATE_DATABASE_URL; CREATEDB, for the test suite's database), `logwarden_app` is the
runtime role the portal connects as (DATABASE_URL), granted its privileges by the owner at each migrate.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlparse

from .base import Service, ServiceError, free_port, generate_password, run_checked

DATABASE = "logwarden"
OWNER_ROLE = "logwarden"
RUNTIME_ROLE = "logwarden_app"


def postgres_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    if not versions:
        raise ServiceError("postgres: no server under /usr/lib/postgresql (scripts/install-system-deps.sh)")
    return versions[-1].parent


class PostgresService(Service):
    name = "postgres"
    ready_timeout = 30.0

    @property
    def _run_as(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def install(self) -> None:
        postgres_bin()

    def launch(self) -> dict[str, str]:
        port = free_port()
        data = self.scratch_dir("pg")
        if self._run_as:
            shutil.chown(data, self._run_as, self._run_as)
        owner_password, runtime_password = generate_password(), generate_password()
        self._as_owner([str(postgres_bin() / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
                        "--auth-host=scram-sha-256",
                        "--encoding=UTF8", "--locale=C"], "initdb")
        self.spawn("postgres", [str(postgres_bin() / "postgres"), "-D", str(data), "-c", f"port={port}",
                                "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={data}",
                                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                                "-c", "max_connections=200"],
                   user=self._run_as)
        self._port, self._data = port, data
        self._passwords = {OWNER_ROLE: owner_password, RUNTIME_ROLE: runtime_password}
        return {"DATABASE_URL": f"postgres://{RUNTIME_ROLE}:{runtime_password}@127.0.0.1:{port}/{DATABASE}",
                "LOGWARDEN_MIGRATE_DATABASE_URL":
                    f"postgres://{OWNER_ROLE}:{owner_password}@127.0.0.1:{port}/{DATABASE}"}

    def is_ready(self, env: Mapping[str, str]) -> bool:
        port = urlparse(env["DATABASE_URL"]).port
        return subprocess.run([str(postgres_bin() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)],
                              check=False).returncode == 0

    def after_ready(self, env: Mapping[str, str]) -> None:
        import psycopg
        from psycopg import sql

        # local (socket) connections are trusted; TCP ones need the role's password
        with psycopg.connect(host=str(self._data), port=self._port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                sql.Identifier(OWNER_ROLE), sql.Literal(self._passwords[OWNER_ROLE])))
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(RUNTIME_ROLE), sql.Literal(self._passwords[RUNTIME_ROLE])))
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DATABASE),
                                                                        sql.Identifier(OWNER_ROLE)))

    def _as_owner(self, cmd: list[str], what: str) -> None:
        if self._run_as:
            cmd = ["runuser", "-u", self._run_as, "--", *cmd]
        run_checked(cmd, f"postgres: {what}")
