"""Webhook settings (environment prefix ``MJAPI_``), read when a batch starts so the environment is the config."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MJAPI_", extra="ignore")

    notify_hook: str | None = Field(default=None, description="Default webhook URL for jobs that did not name one")
    webhook_progress_interval_seconds: float = Field(default=5.0, ge=0, description="At most one progress per job")
    webhook_max_attempts: int = Field(default=8, ge=1, le=50, description="Then the delivery is dead-lettered")
    webhook_backoff_seconds: float = Field(default=10.0, gt=0, description="Wait before the 2nd attempt")
    webhook_backoff_factor: float = Field(default=3.0, ge=1)
    webhook_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    webhook_claim_seconds: float = Field(default=60.0, gt=0, description="An attempt in flight owns its delivery")
    webhook_connect_timeout_seconds: float = Field(default=3.0, gt=0)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, description="Hard limit for one attempt")
    webhook_max_response_bytes: int = Field(default=64 * 1024, gt=0)
    webhook_concurrency: int = Field(default=8, ge=1, le=64, description="Jobs delivered in parallel per batch")
    webhook_drain_batch: int = Field(default=16, ge=1, le=100, description="Due retries taken per drain run")
