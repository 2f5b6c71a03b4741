"""Shared fixtures: moto's real server on loopback and a fresh table (created from template.yaml) per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from devstack.aws_local import create_bucket, create_table, start_moto, use_fake_credentials
from mjapi import aws
from mjapi.secrets import clear_secrets_cache
from mjapi.settings import get_settings
from mjapi.store.table import Table


def _reset_caches() -> None:
    """Settings and secrets are re-read per test; boto3 clients are kept (the endpoint is fixed per session)."""
    get_settings.cache_clear()
    clear_secrets_cache()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    local = start_moto()
    use_fake_credentials(local.endpoint)
    aws.reset_clients()
    _reset_caches()
    yield local.endpoint
    local.stop()


@pytest.fixture
def table(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Table]:
    name = f"mjapi-{uuid.uuid4().hex[:12]}"
    bucket = f"mjapi-img-{uuid.uuid4().hex[:12]}"
    create_table(moto_endpoint, name)
    create_bucket(moto_endpoint, bucket)
    monkeypatch.setenv("MJAPI_TABLE_NAME", name)
    monkeypatch.setenv("MJAPI_BUCKET_NAME", bucket)
    monkeypatch.setenv("MJAPI_CDN_BASE_URL", "https://cdn.test.invalid")
    _reset_caches()
    yield Table(name)
    _reset_caches()
