"""Rate limits per client address, with DRF's throttle machinery (rates in settings.REST_FRAMEWORK's
DEFAULT_THROTTLE_RATES, counts in Django's cache), for the places outside a DRF view that need one: the
anonymous health page, sign-in failures and refused API tokens.

The cache is Django's default (per process): each worker process counts on its own, so the effective limit is
the rate times the number of processes — still a bound on guessing and on probe floods.
"""
from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle


class RateLimit(SimpleRateThrottle):
    def __init__(self, scope: str) -> None:
        self.scope = scope
        super().__init__()

    def get_cache_key(self, request, view=None) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def exceeded(self, request) -> bool:
        """Whether the address has used up its rate, without counting this call (then `wait()` says how long)."""
        self.key, self.now = self.get_cache_key(request), self.timer()
        self.history = [at for at in self.cache.get(self.key, []) if at > self.now - self.duration]
        return len(self.history) >= self.num_requests

    def count(self, request) -> None:
        """One more use (a failure, for the limits that count only those)."""
        self.allow_request(request, None)
