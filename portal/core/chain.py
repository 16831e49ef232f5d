"""The audit chain's arithmetic, free of Django: the canonical encoding of an event's fields, its keyed hash, and
the check of a run of raw rows. `portal.core.audit` writes and verifies the trail with it; a verification over
many events runs it in worker processes, one range of sequences each, which import nothing of the project
but this module.

Each event's hash depends only on its own fields and its stored previous_hash, so every event is checked on its
own (a rewritten event breaks there, "hash"), and each link against the stored hash of the event before it (a
removed event breaks the link of the one after it, "link"): every break is found, not only the first.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

GENESIS = "0" * 64
HASH = "hash"  # the event's fields, or its previous_hash, do not give its hash
LINK = "link"  # the event's previous_hash is not the hash of the event before it (or GENESIS for the first)


def canonical(fields: Mapping[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _derived_key(secret_key: str) -> bytes:
    """The HMAC key: derived from the configured key with a purpose label, never that key itself."""
    return hashlib.sha256(f"logwarden-audit-chain:{secret_key}".encode()).digest()


def chain_key(secret_key: str) -> hmac.HMAC:
    """The chain's HMAC, keyed once (copied per event)."""
    return hmac.new(_derived_key(secret_key), digestmod=hashlib.sha256)


def event_hash(previous_hash: str, fields: Mapping[str, Any], key: hmac.HMAC) -> str:
    mac = key.copy()
    mac.update((previous_hash + canonical(fields)).encode())
    return mac.hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    sequence: int
    kind: str  # HASH or LINK

    def as_dict(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "kind": self.kind}


# the columns of a raw row, in this order: what verify_rows reads (occurred_at as Python's isoformat gives it)
ROW_COLUMNS = ("sequence", "occurred_at", "actor_label", "action", "target_type", "target_id", "target_label",
               "data", "previous_hash", "hash")


@dataclass(frozen=True)
class RangeResult:
    """What one run of consecutive rows showed: its breaks (links checked inside the run only), and its ends, so
    the runs' seams are checked when they are put together."""

    checked: int
    broken: list[BrokenLink]
    first: tuple[int, str, int] | None  # (sequence, previous_hash, key index) of the run's first row
    last: tuple[int, str, int] | None  # (sequence, hash, key index) of its last


def _exact_message(prev: str, occurred_at: str, actor: str, action: str, target_type: str, target_id: str,
                   target_label: str, data: str) -> bytes:
    """The hashed message exactly as `event_hash` builds it, from a raw row (data as JSON text)."""
    fields = {"occurred_at": occurred_at, "actor": actor, "action": action, "target_type": target_type,
              "target_id": target_id, "target_label": target_label, "data": json.loads(data)}
    return (prev + canonical(fields)).encode()


def _key_of(keys: list[bytes], start: int, message: bytes, expected: bytes) -> int | None:
    """The first key from `start` on under which `message` hashes to `expected`."""
    for candidate in range(start, len(keys)):
        if hmac.digest(keys[candidate], message, "sha256") == expected:
            return candidate
    return None


def verify_rows(rows: Iterable[tuple], secret_keys: list[str], previous: str | None) -> RangeResult:
    """Checks raw rows in sequence order (ROW_COLUMNS; data as JSON text). `previous` is the hash the first
    row must link to, or None when the seam is checked by the caller.

    `secret_keys` are the chain's keys, oldest first, the current one last (a rotation retires a key): an event
    verifies under the key of the event before it or a newer one, never an older one, so the trail reads as
    stretches, one per key, each chained on from the last hash of the one before (the re-anchoring).

    Speed: the fields are encoded with orjson (sorted keys, compact, unescaped UTF-8: the canonical encoding for
    all but rare values, such as floats with an exponent) and hashed with the one-shot hmac.digest; only an
    event that does not verify so is encoded again exactly as it was hashed (json), before it counts as broken.
    Accepting either encoding costs nothing in strength: any hash that verifies needs the chain's key."""
    keys = [_derived_key(k) for k in secret_keys]
    digest, loads, dumps, sort = hmac.digest, orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS
    broken: list[BrokenLink] = []
    checked, first, last_hash, sequence, index, first_index = 0, None, previous, None, 0, None
    for row in rows:
        sequence, occurred_at, actor, action, target_type, target_id, target_label, data, prev, stored = row
        if first is None:
            if previous is not None and prev != previous:
                broken.append(BrokenLink(sequence, LINK))
        elif prev != last_hash:
            broken.append(BrokenLink(sequence, LINK))
        try:
            expected = bytes.fromhex(stored)
        except ValueError:  # not even hexadecimal: no key gives it
            expected = b""
        fast = prev.encode() + dumps({"occurred_at": occurred_at, "actor": actor, "action": action,
                                      "target_type": target_type, "target_id": target_id,
                                      "target_label": target_label, "data": loads(data)}, option=sort)
        if digest(keys[index], fast, "sha256") != expected:
            found = _key_of(keys, index + 1, fast, expected)
            if found is None:
                exact = _exact_message(prev, occurred_at, actor, action, target_type, target_id, target_label, data)
                found = _key_of(keys, index, exact, expected)
            if found is None:
                broken.append(BrokenLink(sequence, HASH))
            else:
                index = found
        if first is None:
            first, first_index = (sequence, prev), index
        last_hash, checked = stored, checked + 1
    return RangeResult(checked, broken, first and (*first, first_index), (sequence, last_hash, index) if checked
                       else None)


def verify_range(connect: Mapping[str, Any], query: str, params: tuple, secret_keys: list[str]) -> RangeResult:
    """A worker process's share: reads its rows with COPY over a connection of its own and checks them."""
    import psycopg

    with psycopg.connect(**connect) as conn, conn.cursor() as cursor:
        with cursor.copy(f"COPY ({query}) TO STDOUT", params) as copy:
            copy.set_types(["int8", "text", "text", "text", "text", "text", "text", "text", "text", "text"])
            return verify_rows(copy.rows(), secret_keys, None)
