"""Signed checkpoints of the audit trail's head, and the Ed25519 key that signs them (and sealed exports).

A checkpoint is the head (sequence, hash, count of events) at a time, signed with LOGWARDEN_CHECKPOINT_KEY, an
Ed25519 key of its own, and written outside the database (topics.archive.store.checkpoint_store): whoever can
change the database, even with the chain's key, cannot change what a checkpoint says. A checkpoint names its
key by fingerprint; retired public keys (LOGWARDEN_CHECKPOINT_PUBLIC_KEYS) keep old checkpoints verifiable
after a rotation. Pure, but for reading the settings: no database, no store.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from portal.core.audit import Head

SIGNED_PREFIX = b"logwarden-audit-checkpoint-v1\n"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read, or whose signature does not verify under a known key."""


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def fingerprint(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:32]


def load_private_key(text: str) -> Ed25519PrivateKey:
    """A PEM (PKCS#8) Ed25519 private key, given as its text or the path of a file holding it."""
    data = text if "-----BEGIN" in text else Path(text).read_text()
    key = serialization.load_pem_private_key(data.encode(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("not an Ed25519 private key")
    return key


def load_public_key(text: str) -> Ed25519PublicKey:
    """A PEM Ed25519 public key, given as its text or the path of a file holding it."""
    data = text if "-----BEGIN" in text else Path(text).read_text()
    key = serialization.load_pem_public_key(data.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                                   ).decode()


@cache
def _signing_key(configured: str, secret_key: str) -> Ed25519PrivateKey:
    if configured:
        return load_private_key(configured)
    # development and tests: derived from SECRET_KEY with a purpose label (production requires a key of its own)
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(f"logwarden-audit-checkpoint-key:{secret_key}".encode()).digest())


def signing_key() -> Ed25519PrivateKey:
    return _signing_key(settings.LOGWARDEN_CHECKPOINT_KEY, settings.SECRET_KEY)


def known_public_keys() -> dict[str, Ed25519PublicKey]:
    """Fingerprint → public key: the current key's and the retired ones'."""
    keys = [signing_key().public_key()] + [load_public_key(k) for k in settings.LOGWARDEN_CHECKPOINT_PUBLIC_KEYS]
    return {fingerprint(key): key for key in keys}


@dataclass(frozen=True)
class Checkpoint:
    sequence: int
    hash: str
    count: int
    signed_at: str  # ISO 8601, UTC
    key: str  # the signing key's fingerprint
    signature: str = ""  # base64 of the Ed25519 signature over SIGNED_PREFIX + the canonical rest

    def body(self) -> dict:
        document = asdict(self)
        document.pop("signature")
        return document

    def signed_message(self) -> bytes:
        return SIGNED_PREFIX + _canonical(self.body())

    def document(self) -> dict:
        return asdict(self)

    def to_bytes(self) -> bytes:
        return _canonical(self.document()) + b"\n"

    @property
    def store_key(self) -> str:
        """Sorts by time: the last key is the latest checkpoint."""
        moment = datetime.fromisoformat(self.signed_at)
        return f"checkpoints/{moment:%Y%m%dT%H%M%S%f}Z-{self.sequence:015d}.json"

    @classmethod
    def from_document(cls, document: object) -> Checkpoint:
        try:
            return cls(sequence=int(document["sequence"]), hash=str(document["hash"]), count=int(document["count"]),
                       signed_at=str(document["signed_at"]), key=str(document["key"]),
                       signature=str(document["signature"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"not a checkpoint ({exc.__class__.__name__}: {exc})") from None

    @classmethod
    def from_bytes(cls, data: bytes) -> Checkpoint:
        try:
            return cls.from_document(json.loads(data))
        except ValueError as exc:
            raise CheckpointError(f"not a checkpoint: {exc}") from None


def sign(head: Head, signed_at: datetime, key: Ed25519PrivateKey | None = None) -> Checkpoint:
    key = key or signing_key()
    unsigned = Checkpoint(head.sequence, head.hash, head.count, signed_at.isoformat(), fingerprint(key.public_key()))
    return Checkpoint(**{**unsigned.document(),
                         "signature": base64.b64encode(key.sign(unsigned.signed_message())).decode()})


def verify_signature(checkpoint: Checkpoint, keys: dict[str, Ed25519PublicKey]) -> None:
    """Raises CheckpointError unless a key of `keys` (fingerprint → key) signed the checkpoint as it reads."""
    public_key = keys.get(checkpoint.key)
    if public_key is None:
        raise CheckpointError(f"signed by an unknown key {checkpoint.key}")
    try:
        public_key.verify(base64.b64decode(checkpoint.signature, validate=True), checkpoint.signed_message())
    except (InvalidSignature, ValueError):
        raise CheckpointError("the signature does not verify") from None
