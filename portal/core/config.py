"""Reading settings from environment variables, with errors that name the variable.

Settings must never fail with a stack trace deep inside a library: each reader here validates its value and
raises ImproperlyConfigured with the variable's name, what was expected and what was found.
What was found is shown with any password masked (`postgres://user:***@db/lw`): configuration errors end up in
terminals, CI logs and crash reports, and a mistyped scheme must not publish the credentials after it.
"""
from __future__ import annotations

import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
# \Z, not $: "$" would accept a trailing newline, which would end a line of a generated client configuration
HOST_PORT = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.\-]+):(\d{1,5})\Z")
_PASSWORD_PARAM = re.compile(r"(?i)([?&;](?:password|passwd|pwd|secret|token)=)[^&;#]*")
MASK = "***"


def masked(value: str) -> str:
    """`value` with the password of a URL's userinfo (`postgres://user:***@db/lw`) and of a password=… query
    parameter replaced by ***. Errs on the side of hiding: everything from the userinfo's first ':' to the
    last '@' is masked, with or without a (mistyped) scheme, whatever characters the password holds."""
    at = value.rfind("@")
    if at != -1:
        start = value.find("://")
        start = 0 if start == -1 or start > at else start + 3
        colon = value.find(":", start, at)
        if colon != -1:
            value = f"{value[:colon + 1]}{MASK}{value[at:]}"
    return _PASSWORD_PARAM.sub(lambda m: f"{m[1]}{MASK}", value)


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}: expected one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}: expected a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}: must be at least {minimum}, got {value}")
    return value


def is_host_port(text: str) -> bool:
    """`host:port` (a name, an IPv4 address or a bracketed IPv6 address, and a port from 1 to 65535)."""
    match = HOST_PORT.match(text)
    return bool(match) and 0 < int(match.group(2)) < 65536


def env_host_ports(name: str) -> str:
    """A comma-separated list of host:port pairs (Kafka bootstrap servers), or '' when unset."""
    raw = env_str(name)
    if not raw:
        return ""
    for part in raw.split(","):
        if not is_host_port(part.strip()):
            raise ImproperlyConfigured(
                f"{name}: expected host:port[,host:port…] (for example 127.0.0.1:9092), got {masked(part.strip())!r}")
    return ",".join(p.strip() for p in raw.split(","))


_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)\Z")


def env_rate(name: str, default: str) -> str:
    """A rate limit as DRF writes it: a number of requests per second, minute, hour or day (`10/min`)."""
    value = env_str(name, default)
    if not _RATE.match(value) or int(value.split("/")[0]) < 1:
        raise ImproperlyConfigured(f"{name}: expected a rate such as 10/min (per s, min, hour or day), got {value!r}")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}: expected one of {', '.join(choices)}; got {masked(value)!r}")
    return value


def env_url(name: str, default: str, schemes: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value and not value.startswith(tuple(f"{s}://" for s in schemes)):
        raise ImproperlyConfigured(
            f"{name}: expected a URL starting with {' or '.join(s + '://' for s in schemes)}, got {masked(value)!r}")
    return value


def pem_setting(name: str, kind: str, value: str | None = None) -> str:
    """An Ed25519 key in PEM (`kind` "private" or "public"), given as the text or the path of a file holding it
    (`value`, else the variable `name`): its PEM text, or '' when unset. Never shows what it found."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

    value = env_str(name) if value is None else value.strip()
    if not value:
        return ""
    try:
        text = value if "-----BEGIN" in value else open(value, encoding="ascii").read()
        key = (serialization.load_pem_private_key(text.encode(), password=None) if kind == "private"
               else serialization.load_pem_public_key(text.encode()))
    except (OSError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{name}: not an Ed25519 {kind} key in PEM, nor a file holding one "
                                   f"({exc.__class__.__name__})") from None
    if not isinstance(key, Ed25519PrivateKey if kind == "private" else Ed25519PublicKey):
        raise ImproperlyConfigured(f"{name}: not an Ed25519 {kind} key in PEM, nor a file holding one")
    return text
