"""Secrets never reach a log line: every log record is redacted when it is created, whoever logs it.

Registered secrets (Discord tokens, the admin key) are replaced wherever they appear; so are API tokens (``mjk_...``),
Discord-token-shaped strings, and ``token=``/``key=`` query parameters, which URLs in third-party logs (httpx,
botocore at DEBUG) would otherwise carry. Installed once per process by :func:`install`.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

MASK = "***"
_KEYS = r"(?:token|admin_key|api_key|access_token|authorization|mj-api-secret|x-admin-key|webhook_signing_key)"
_PATTERNS = (
    # token=... in query strings and headers-as-text
    re.compile(rf"(?i)(\b{_KEYS}=)[^&\s\"'<>,}}\\]+"),
    # "token": "..." / 'token': '...' in JSON bodies and dict reprs, also when the JSON sits escaped inside another
    # string (\"admin_key\": \"...\", as botocore logs a SecretString at DEBUG)
    re.compile(rf"""(?i)(\\*["']{_KEYS}\\*["']\s*:\s*(?:\\*["'])?)[^"'&\s,}}\\]+"""),
    re.compile(r"\bmjk_[A-Za-z0-9_-]{8,}"),
    re.compile(r"\b[A-Za-z0-9_-]{20,30}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{20,}"),  # Discord user token shape
)

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register(*values: str | None) -> None:
    """Remember exact secret values (shorter than 8 characters would mask ordinary words, so they are skipped)."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= 8)


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return text


def install() -> None:
    """Wrap the log record factory so every record's final message is redacted before any handler sees it."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            try:
                message = record.getMessage()
            except Exception:  # a malformed call: leave it to logging's own error handling
                return record
            cleaned = redact(message)
            if cleaned != message or record.args:
                record.msg, record.args = cleaned, None
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


@contextmanager
def quiet(*loggers: str) -> Iterator[None]:
    """Raise these loggers to INFO for the duration (while a secret is fetched, before :func:`register` knows it)."""
    saved = [(logging.getLogger(name), logging.getLogger(name).level) for name in loggers]
    with _lock:
        for log, _level in saved:
            if log.getEffectiveLevel() < logging.INFO:
                log.setLevel(logging.INFO)
    try:
        yield
    finally:
        with _lock:
            for log, level in saved:
                log.setLevel(level)
