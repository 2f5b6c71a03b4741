"""REST rate limits with Discord's headers, plus injected REST faults (429 / 5xx for the next N requests).

Buckets are fixed windows per (token, bucket, major resource id). Every `/api` response carries
`X-RateLimit-Limit/-Remaining/-Reset/-Reset-After/-Bucket`; a 429 adds `Retry-After`, `X-RateLimit-Scope` (and
`X-RateLimit-Global` for the global limit) and the body `{"message", "retry_after", "global"}`.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass, field
from typing import Any

from simulator.config import RateLimitConfig

JSON = dict[str, Any]


@dataclass
class Verdict:
    allowed: bool
    headers: dict[str, str]
    retry_after: float = 0.0
    is_global: bool = False

    def body(self) -> JSON:
        return {
            "message": "You are being rate limited.",
            "retry_after": round(self.retry_after, 3),
            "global": self.is_global,
        }


def bucket_hash(name: str) -> str:
    return hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:32]


def limited_headers(
    retry_after: float, *, scope: str = "user", is_global: bool = False, limit: int = 1
) -> dict[str, str]:
    """Headers of a 429 (used by injected faults as well as real limits)."""
    now = time.time()
    headers = {
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{now + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Scope": scope,
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"
    return headers


class RateLimiter:
    def __init__(self, config: RateLimitConfig) -> None:
        self.config = config
        self._windows: dict[tuple[str, str, str], tuple[float, int]] = {}

    def _hit(self, key: tuple[str, str, str], limit: int, window: float, now: float) -> tuple[bool, int, float]:
        start, count = self._windows.get(key, (now, 0))
        if now - start >= window:
            start, count = now, 0
        if count >= limit:
            self._windows[key] = (start, count)
            return False, 0, start + window - now
        count += 1
        self._windows[key] = (start, count)
        return True, limit - count, start + window - now

    def check(self, who: str, bucket: str, major: str) -> Verdict:
        if not self.config.enabled:
            return Verdict(True, {})
        now = time.monotonic()
        if len(self._windows) > 50_000:
            self._windows = {k: v for k, v in self._windows.items() if now - v[0] < 60.0}
        allowed, _, reset_after = self._hit(
            (who, "global", ""), self.config.global_limit, self.config.global_window, now
        )
        if not allowed:
            return Verdict(
                False,
                limited_headers(reset_after, scope="global", is_global=True, limit=self.config.global_limit),
                reset_after,
                True,
            )
        spec = self.config.buckets.get(bucket) or self.config.buckets["default"]
        allowed, remaining, reset_after = self._hit((who, bucket, major), spec.limit, spec.window, now)
        wall = time.time()
        headers = {
            "X-RateLimit-Limit": str(spec.limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{wall + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": bucket_hash(bucket),
        }
        if not allowed:
            headers.update(limited_headers(reset_after, limit=spec.limit))
            headers["X-RateLimit-Bucket"] = bucket_hash(bucket)
            return Verdict(False, headers, reset_after)
        return Verdict(True, headers)

    def reset(self) -> None:
        self._windows.clear()


@dataclass
class RestFault:
    """Answer the next `count` matching requests with `status` instead of handling them."""

    status: int
    count: int
    route: str | None = None  # substring of the path, e.g. "/interactions"
    method: str | None = None
    user_id: str | None = None
    retry_after: float = 1.0
    id: int = 0
    hits: int = 0

    def matches(self, path: str, method: str, user_id: str | None) -> bool:
        if self.count <= 0:
            return False
        if self.route is not None and self.route not in path:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        return self.user_id is None or self.user_id == user_id

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "status": self.status,
            "remaining": self.count,
            "route": self.route,
            "method": self.method,
            "user_id": self.user_id,
            "retry_after": self.retry_after,
            "hits": self.hits,
        }


@dataclass
class RestFaults:
    faults: list[RestFault] = field(default_factory=list)
    _next_id: int = 1

    def add(self, fault: RestFault) -> RestFault:
        if not 400 <= fault.status <= 599:
            raise ValueError("status must be a 4xx or 5xx code")
        if fault.count < 1:
            raise ValueError("count must be at least 1")
        fault.id = self._next_id
        self._next_id += 1
        self.faults.append(fault)
        return fault

    def take(self, path: str, method: str, user_id: str | None) -> RestFault | None:
        for fault in self.faults:
            if fault.matches(path, method, user_id):
                fault.count -= 1
                fault.hits += 1
                if fault.count <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self.faults.clear()
