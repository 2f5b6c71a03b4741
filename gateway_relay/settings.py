"""Relay settings (environment prefix ``MJAPI_RELAY_``); shared settings come from :mod:`mjapi.settings`."""

from __future__ import annotations

import os
import secrets
import socket

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway_relay.health import DEFAULT_HEALTH_FILE


def _default_owner() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


class RelaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MJAPI_RELAY_", extra="ignore")

    gateway_url: str | None = Field(default=None, description="Override; by default asked from GET /gateway")
    zlib_stream: bool = True
    lease_seconds: float = 30.0
    resume_max_age_seconds: float = 240.0
    resume_save_interval_seconds: float = 5.0  # a stale seq only means a few more (harmless) replayed events
    dispatch_interval_seconds: float = 5.0
    reap_interval_seconds: float = 15.0
    secrets_refresh_seconds: float = 60.0
    disconnected_after_seconds: float = 30.0
    workers: int = 64  # threads for store calls and image copies: most of their time is waiting on the network
    copy_previews: bool = True
    preview_interval_seconds: float = 10.0  # the first preview of a job at once, then at most one this often
    fast_fallback_to_relax: bool = True
    catch_up_messages: int = 50
    owner_id: str = Field(default_factory=_default_owner)
    health_file: str = Field(default=DEFAULT_HEALTH_FILE, description="Touched by the event loop; empty: off")
    health_interval_seconds: float = 10.0
    metrics_interval_seconds: float = Field(default=60.0, description="Account gauges (EMF on stdout); 0: off")
    metrics_namespace: str = "mjapi"
