"""Snowflakes, seeded randomness and timestamps.

All randomness is derived from the simulator seed with `derive_rng(seed, *labels)`, so an account's ids, a job's
UUID, its seed and its image bytes do not depend on how concurrent work interleaves. Message and interaction ids are
snowflakes over the wall clock (clients sort by them), so they differ between runs.
"""

from __future__ import annotations

import base64
import hashlib
import random
import re
import time
import uuid
from datetime import UTC, datetime

from simulator.constants import DISCORD_EPOCH_MS


def derive_seed(seed: int, *labels: object) -> int:
    """A 64-bit integer derived from the simulator seed and any labels (stable across processes)."""
    text = "\x1f".join([str(seed), *(str(label) for label in labels)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def derive_rng(seed: int, *labels: object) -> random.Random:
    return random.Random(derive_seed(seed, *labels))


def random_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def random_hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def random_token_part(rng: random.Random, length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(length))


def user_token(rng: random.Random, user_id: str) -> str:
    """A token shaped like a real user token: base64(user id).6 chars.38 chars."""
    head = base64.b64encode(user_id.encode()).decode().rstrip("=")
    return f"{head}.{random_token_part(rng, 6)}.{random_token_part(rng, 38)}"


def snowflake_at(ts_ms: int, worker: int = 0, increment: int = 0) -> str:
    return str(((ts_ms - DISCORD_EPOCH_MS) << 22) | ((worker & 0x3FF) << 12) | (increment & 0xFFF))


def snowflake_time(snowflake: str) -> float:
    """Unix seconds encoded in a snowflake."""
    return ((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000.0


class Snowflakes:
    """Monotonic snowflakes over the wall clock (several per millisecond via the increment field)."""

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker
        self._last_ms = 0
        self._increment = 0

    def next(self) -> str:
        now_ms = int(time.time() * 1000)
        if now_ms <= self._last_ms:
            self._increment += 1
            if self._increment > 0xFFF:
                self._last_ms += 1
                self._increment = 0
            now_ms = self._last_ms
        else:
            self._increment = 0
        self._last_ms = now_ms
        return snowflake_at(now_ms, self._worker, self._increment)


def iso_timestamp(unix: float) -> str:
    """Discord's timestamp format: `2024-05-01T12:00:00.123000+00:00`."""
    return datetime.fromtimestamp(unix, tz=UTC).isoformat(timespec="microseconds")


def is_snowflake(value: object) -> bool:
    return isinstance(value, str) and value.isdigit() and 0 < len(value) <= 20


def safe_filename(name: str) -> str:
    """Attachment filenames as Discord stores them: path stripped, spaces and odd characters turned into `_`."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).strip(".") or "file"
    return cleaned[:200]
