"""Which store this process talks to, read from the environment at each use.

The names and defaults are :class:`mjapi.settings.Settings`' (``MJAPI_STORE``, ``MJAPI_DATA_DIR``,
``MJAPI_SQLITE_SYNCHRONOUS``), but a ``Table`` is made per request: reading them through the cached settings there
would freeze every other setting at the first table made (tests and the dev stack change the environment between
steps), and building ``Settings()`` each time costs milliseconds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mjapi.settings import Settings


def _read(name: str, allowed: tuple[str, ...] | None = None) -> Any:
    default = Settings.model_fields[name].default
    raw = os.environ.get(f"MJAPI_{name.upper()}")
    if raw is None or raw == "":
        return default
    if allowed is not None:
        value = raw.strip()
        for option in allowed:
            if value.lower() == option.lower():
                return option
        raise ValueError(f"MJAPI_{name.upper()}={raw!r}: expected one of {', '.join(allowed)}")
    return raw


def store_kind() -> str:
    """``dynamodb`` (AWS, moto) or ``sqlite`` (one machine)."""
    return str(_read("store", ("dynamodb", "sqlite")))


def data_dir() -> Path:
    """The single-machine store's directory (tables, objects)."""
    return Path(_read("data_dir"))


def sqlite_synchronous() -> str:
    return str(_read("sqlite_synchronous", ("FULL", "NORMAL")))
