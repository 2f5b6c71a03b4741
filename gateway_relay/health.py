"""The relay's container health check: a file the relay's event loop touches, and a checker that reads its age.

``python -m gateway_relay.health`` exits 0 while the file is fresh and 1 otherwise: the task definition runs it as a
``CMD-SHELL`` health check, so ECS replaces a relay whose event loop hangs (not only one whose process exits). Only the
standard library is imported here: the check starts a Python process every interval and must stay cheap.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HEALTH_FILE_ENV = "MJAPI_RELAY_HEALTH_FILE"
MAX_AGE_ENV = "MJAPI_RELAY_HEALTH_MAX_AGE_SECONDS"
DEFAULT_HEALTH_FILE = "/tmp/mjapi-relay.alive"  # noqa: S108 - the container's own /tmp, written by its only user
DEFAULT_MAX_AGE_SECONDS = 60.0


def touch(path: str | Path) -> None:
    """Record that the relay's event loop ran just now (atomically: a checker never reads a half-written file)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    partial.write_text(f"{time.time():.3f}\n", encoding="ascii")
    partial.replace(target)


def age(path: str | Path, *, now: float | None = None) -> float | None:
    """Seconds since the relay last touched ``path``; None if it never did."""
    try:
        written = float(Path(path).read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    return (time.time() if now is None else now) - written


def healthy(path: str | Path, max_age: float, *, now: float | None = None) -> bool:
    seconds = age(path, now=now)
    return seconds is not None and seconds <= max_age


def main() -> int:
    path = os.environ.get(HEALTH_FILE_ENV) or DEFAULT_HEALTH_FILE
    try:
        max_age = float(os.environ.get(MAX_AGE_ENV) or DEFAULT_MAX_AGE_SECONDS)
    except ValueError:
        max_age = DEFAULT_MAX_AGE_SECONDS
    seconds = age(path)
    if seconds is None:
        print(f"unhealthy: {path} was never written", file=sys.stderr)
        return 1
    if seconds > max_age:
        print(f"unhealthy: the relay's event loop last ran {seconds:.0f}s ago (limit {max_age:.0f}s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
