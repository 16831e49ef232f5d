"""Sealed exports: each file carries the latest signed checkpoint and a signature, with the checkpoint key, over
its content, so it attests "the trail as of checkpoint N said this" and is verified offline with the public key
(`manage.py audit verify-export FILE --public-key PEM`).

Where the seal sits, in a way each format tolerates:
- JSON: an `evidence` member of the document; the signature covers the canonical encoding (sorted keys, no
  spaces, UTF-8) of the document without it.
- CSV: a last line `#logwarden-evidence <seal>`; the signature covers every byte before that line.
- PDF: a comment line `%logwarden-evidence <seal>` after the final %%EOF (readers ignore it); the signature
  covers every byte before it.
`<seal>` is compact JSON: {"checkpoint": {...the checkpoint as stored...}, "key": fingerprint, "signature":
base64}. The signed message is SIGNED_PREFIX + the covered bytes + "\n" + the checkpoint's stored bytes.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.http import HttpResponse, HttpResponseBadRequest

from portal.core import exports
from topics.audit import checkpoints
from topics.audit.checkpoints import Checkpoint, CheckpointError
from topics.audit.services import latest_checkpoint

SIGNED_PREFIX = b"logwarden-sealed-export-v1\n"
_MARKERS = {"csv": b"#logwarden-evidence ", "pdf": b"%logwarden-evidence "}


class SealError(ValueError):
    """An export whose seal is missing, malformed or does not verify."""


def _canonical(document: object) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _message(covered: bytes, checkpoint: Checkpoint) -> bytes:
    return SIGNED_PREFIX + covered + b"\n" + checkpoint.to_bytes()


def _seal_of(covered: bytes, checkpoint: Checkpoint) -> dict:
    key = checkpoints.signing_key()
    return {"checkpoint": checkpoint.document(), "key": checkpoints.fingerprint(key.public_key()),
            "signature": base64.b64encode(key.sign(_message(covered, checkpoint))).decode()}


def seal(content: bytes, fmt: str, checkpoint: Checkpoint) -> bytes:
    """`content` (an export of format `fmt`) with its seal embedded."""
    if fmt == "json":
        document = json.loads(content)
        document["evidence"] = _seal_of(_canonical(document), checkpoint)
        return (json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()
    if not content.endswith(b"\n"):
        content += b"\n"
    return content + _MARKERS[fmt] + _canonical(_seal_of(content, checkpoint)) + b"\n"


@dataclass(frozen=True)
class VerifiedExport:
    fmt: str
    checkpoint: Checkpoint
    key: str


def _split(data: bytes) -> tuple[str, bytes, dict]:
    """(format, covered bytes, seal) of a sealed file."""
    for fmt, marker in _MARKERS.items():
        at = data.rfind(b"\n" + marker)
        if at != -1:
            covered, line = data[:at + 1], data[at + 1 + len(marker):]
            try:
                return fmt, covered, json.loads(line)
            except ValueError:
                raise SealError(f"{fmt}: the evidence line is not JSON") from None
    try:
        document = json.loads(data)
    except ValueError:
        raise SealError("no evidence found: not a sealed CSV, JSON or PDF export") from None
    if not isinstance(document, dict) or "evidence" not in document:
        raise SealError("json: no evidence member")
    found = document.pop("evidence")
    return "json", _canonical(document), found


def verify(data: bytes, public_keys: Sequence[Ed25519PublicKey]) -> VerifiedExport:
    """Checks a sealed export offline: the checkpoint's signature and the export's, each under one of
    `public_keys`. Raises SealError naming what failed."""
    fmt, covered, found = _split(data)
    keys = {checkpoints.fingerprint(key): key for key in public_keys}
    try:
        checkpoint = Checkpoint.from_document(found["checkpoint"])
        checkpoints.verify_signature(checkpoint, keys)
        key = keys.get(found["key"])
        if key is None:
            raise SealError(f"{fmt}: sealed with a key not given ({found['key']})")
        key.verify(base64.b64decode(found["signature"], validate=True), _message(covered, checkpoint))
    except CheckpointError as exc:
        raise SealError(f"{fmt}: the checkpoint: {exc}") from None
    except (InvalidSignature, ValueError, KeyError, TypeError):
        raise SealError(f"{fmt}: the export's signature does not verify: its content was changed") from None
    return VerifiedExport(fmt, checkpoint, found["key"])


def download(table: exports.Table, fmt: str, filename: str, *,
             allowed: Sequence[str] = ("csv", "json")) -> HttpResponse:
    """As portal.core.exports.download, sealed with the latest checkpoint; raises exports.UnknownFormat (the
    caller answers 400) for a format not offered."""
    response = exports.download(table, fmt, filename, allowed=allowed)
    response.content = seal(response.content, fmt, latest_checkpoint())
    return response


def download_page(table: exports.Table, fmt: str, filename: str, *,
                  allowed: Sequence[str] = ("csv", "json")) -> HttpResponse:
    """A page's sealed download: download, or a 400 that names the formats offered."""
    try:
        return download(table, fmt, filename, allowed=allowed)
    except exports.UnknownFormat as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
