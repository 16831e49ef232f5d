"""Named locks shared by every process of one installation, on PostgreSQL and on SQLite alike.

A lock is (space, key): each purpose has its own `LockSpace`, so two purposes can never collide, whatever keys
they use. On PostgreSQL a lock is a two-key advisory lock `(space, key)`; on SQLite (the embedded default), which
has no advisory locks, it is an exclusive `flock` on a file named after the lock next to the database. Both are
released when the holder's connection or process dies, so a killed worker never leaves a lock behind.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path

from django.db import connection


class LockSpace(IntEnum):
    """The purposes locks serve: the first key of every PostgreSQL advisory lock Logwarden takes."""

    AUDIT_CHAIN = 1  # appends to the audit trail, so each event chains on its predecessor
    KAFKA_CLUSTER = 2  # reconcile runs of one Kafka cluster (key: the cluster's id)
    ARCHIVE_TOPIC = 3  # archive runs of one topic (key: the topic's id), so two never write the same files


_INT4 = 2**31


@contextmanager
def held(space: LockSpace, key: int, *, wait: bool = True) -> Iterator[bool]:
    """Holds the lock (space, key) for the block, across transactions. Yields whether it is held: with
    `wait=False` the block runs at once, and sees False when another holder has it."""
    if not -_INT4 <= key < _INT4:
        raise ValueError(f"lock key {key} does not fit PostgreSQL's int4")
    if connection.vendor == "postgresql":
        with _advisory(space, key, wait) as got:
            yield got
    else:
        with _file_lock(space, key, wait) as got:
            yield got


def hold_for_transaction(space: LockSpace, key: int) -> None:
    """Takes the lock (space, key) until the current transaction ends (PostgreSQL). SQLite needs none: its
    IMMEDIATE transactions (portal.settings) already serialise writers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [int(space), key])


@contextmanager
def _advisory(space: LockSpace, key: int, wait: bool) -> Iterator[bool]:
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s, %s)", [int(space), key])
            got = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [int(space), key])
            got = cursor.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [int(space), key])


@contextmanager
def _file_lock(space: LockSpace, key: int, wait: bool) -> Iterator[bool]:
    path = _lock_dir() / f"{space.name.lower()}-{key}.lock"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            got = True
        except BlockingIOError:
            got = False
        try:
            yield got
        finally:
            if got:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def _lock_dir() -> Path:
    """Beside a file database (`<db>.locks/`); for an in-memory one, a directory of this process's own."""
    name = str(connection.settings_dict["NAME"])
    if name and name != ":memory:" and not name.startswith("file:"):
        where = Path(f"{name}.locks")
    else:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        where = Path(tempfile.gettempdir()) / f"logwarden-locks-{os.getpid()}-{digest}"
    where.mkdir(mode=0o700, exist_ok=True)
    return where
