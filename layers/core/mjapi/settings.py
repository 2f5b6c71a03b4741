"""Runtime settings, read once from the environment (prefix ``MJAPI_``).

Every external endpoint is a setting so that the same code runs against AWS and Discord, or against moto and the
simulator (``AWS_ENDPOINT_URL`` is honoured by boto3 itself).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MJAPI_", extra="ignore")

    table_name: str = "mjapi"
    bucket_name: str = "mjapi-images"
    cdn_base_url: str = Field(default="", description="Public base URL of the image CDN (CloudFront, or a local route)")
    # Where the table and the images live: DynamoDB + S3 (AWS, moto), or SQLite + a local directory on one machine
    # (``make run``'s default; mjapi.store.backends). FULL syncs every commit to disk, NORMAL only survives a process
    # crash (not a power cut) but commits ~50x faster.
    store: Literal["dynamodb", "sqlite"] = "dynamodb"
    data_dir: Path = Path(".devstack/data")
    sqlite_synchronous: Literal["FULL", "NORMAL"] = "FULL"
    # Where Discord accounts and the admin key come from: Secrets Manager in AWS, a JSON file or inline JSON locally.
    secret_arn: str | None = None
    secrets_file: Path | None = None
    secrets_json: str | None = None
    secrets_cache_seconds: float = 60.0

    discord_api_base: str = "https://discord.com/api/v9"
    discordsays_base: str = "https://{application_id}.discordsays.com"
    discord_user_agent: str = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/130.0.0.0 Safari/537.36"
    )
    discord_timeout_seconds: float = 15.0
    discord_max_retries: int = 4

    queue_limit: int = 100
    # Fair sharing between callers: one token's charged jobs running or queued at once, and its requests per minute
    # on job-making endpoints (0: no rate limit).
    max_active_per_token: int = 20
    token_requests_per_minute: int = 120
    job_timeout_seconds: int = 900
    submit_timeout_seconds: int = 120
    queue_timeout_seconds: int = 3600
    # A /mj MODAL task (a button whose form the caller fills in through /mj/submit/modal) fails after this long
    # without its form: nothing was charged, and its parent's buttons may no longer be pressable by then.
    modal_timeout_seconds: int = 3600
    job_retention_days: int = 90
    max_prompt_length: int = 4000
    # Words refused before a job is spent (whole words, any case; comma-separated): Midjourney's own list is not
    # public, so operators list what their accounts got refused for. The bot still refuses anything it bans itself.
    banned_words: str = ""
    # Lambda takes at most 6 MB of request payload, and API Gateway base64-encodes binary bodies (x4/3): one request
    # carries at most ~4.1 MiB of file, so a larger image gets a clear 413 instead of API Gateway's bare error.
    max_upload_bytes: int = 4 * 1024 * 1024
    max_request_bytes: int = 5_600_000
    switch_wait_seconds: float = 8.0


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
