"""Identifiers: job ids, Discord-style nonces, API tokens."""

from __future__ import annotations

import hashlib
import secrets
import time

DISCORD_EPOCH_MS = 1420070400000
TOKEN_PREFIX = "mjk_"  # noqa: S105 - a public prefix, not a secret


def new_job_id() -> str:
    """Time-ordered numeric string (epoch ms + 6 random digits), the shape midjourney-proxy clients expect."""
    return f"{int(time.time() * 1000)}{secrets.randbelow(1_000_000):06d}"


def new_nonce() -> str:
    """A snowflake-shaped nonce, as Discord clients generate (the bot echoes it on its first message)."""
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    return str((ms << 22) | secrets.randbits(22))


def new_api_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session_id() -> str:
    return secrets.token_hex(16)
