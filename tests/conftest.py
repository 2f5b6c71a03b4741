"""Shared fixtures: moto's real server on loopback and a fresh table (created from template.yaml) per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

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


# -- the store contract: the same behaviour on DynamoDB (moto) and on the single-machine SQLite store ----------------


def _moto_table(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Table:
    name = f"mjapi-{uuid.uuid4().hex[:12]}"
    bucket = f"mjapi-img-{uuid.uuid4().hex[:12]}"
    create_table(moto_endpoint, name)
    create_bucket(moto_endpoint, bucket)
    monkeypatch.setenv("MJAPI_STORE", "dynamodb")
    monkeypatch.setenv("MJAPI_TABLE_NAME", name)
    monkeypatch.setenv("MJAPI_BUCKET_NAME", bucket)
    monkeypatch.setenv("MJAPI_CDN_BASE_URL", "https://cdn.test.invalid")
    _reset_caches()
    return Table(name)


@pytest.fixture
def dynamodb_table(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Table]:
    """A fresh moto table and bucket (like ``table``, under a name that modules overriding ``table`` can still ask)."""
    yield _moto_table(moto_endpoint, monkeypatch)
    _reset_caches()


@pytest.fixture
def sqlite_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Table]:
    """A fresh single-machine store (``MJAPI_STORE=sqlite``): SQLite table and image directory under ``tmp_path``."""
    from mjapi.store.backends.sqlite_table import close_databases

    name = f"mjapi-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("MJAPI_STORE", "sqlite")
    monkeypatch.setenv("MJAPI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("MJAPI_TABLE_NAME", name)
    monkeypatch.setenv("MJAPI_BUCKET_NAME", "mjapi-images")
    monkeypatch.setenv("MJAPI_CDN_BASE_URL", "https://cdn.test.invalid")
    _reset_caches()
    table = Table(name)
    assert type(table).__name__ == "SqliteTable"
    yield table
    close_databases()
    _reset_caches()


@pytest.fixture(params=["dynamodb", "sqlite"])
def backend(request: pytest.FixtureRequest) -> Table:
    """The store contract's fixture: every test that asks for it runs on moto's DynamoDB and on SQLite."""
    return request.getfixturevalue("dynamodb_table" if request.param == "dynamodb" else "sqlite_table")
