"""Discord account tokens and the admin key: from Secrets Manager, a JSON file or inline JSON, cached briefly.

Secret shape: ``{"admin_key": "...", "webhook_signing_key": "<64 hex>", "accounts": [{"id", "token", "channel_id",
"guild_id", "mode", "bot", "concurrency", "proxy", "enabled"}]}``. A bare list is accepted as the accounts (the original
project's ``token_channels.json``). Tokens are ``SecretStr`` so they never print.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from mjapi import aws, redaction
from mjapi.models import AccountConfig
from mjapi.settings import Settings, get_settings

redaction.install()  # any process that can read secrets keeps them out of its logs


class SecretsError(RuntimeError):
    pass


@dataclass(frozen=True)
class SecretBundle:
    admin_key: SecretStr | None
    accounts: tuple[AccountConfig, ...] = field(default_factory=tuple)
    webhook_signing_key: SecretStr | None = None  # Ed25519 seed (hex) that signs webhooks; see mjapi.webhooks.signing

    def account(self, account_id: str) -> AccountConfig | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def is_admin(self, presented: str | None) -> bool:
        if not presented or self.admin_key is None:
            return False
        return hmac.compare_digest(presented.encode(), self.admin_key.get_secret_value().encode())


def parse_bundle(raw: Any) -> SecretBundle:
    if isinstance(raw, list):
        raw = {"accounts": raw}
    if not isinstance(raw, dict):
        raise SecretsError("secret must be a JSON object with 'accounts' (and 'admin_key')")
    accounts_raw = raw.get("accounts") or []
    if not isinstance(accounts_raw, list):
        raise SecretsError("'accounts' must be a list")
    accounts = tuple(AccountConfig.from_raw(a) for a in accounts_raw)
    ids = [a.id for a in accounts]
    if len(ids) != len(set(ids)):
        raise SecretsError("account ids must be unique")
    admin = raw.get("admin_key")
    signing = raw.get("webhook_signing_key")
    if signing is not None and not isinstance(signing, str):
        raise SecretsError("'webhook_signing_key' must be a string")
    redaction.register(admin, signing, *(a.token.get_secret_value() for a in accounts))
    return SecretBundle(
        admin_key=SecretStr(admin) if admin else None,
        accounts=accounts,
        webhook_signing_key=SecretStr(signing) if signing else None,
    )


def _read_raw(settings: Settings) -> Any:
    if settings.secrets_json:
        return json.loads(settings.secrets_json)
    if settings.secrets_file:
        return json.loads(settings.secrets_file.read_text(encoding="utf-8"))
    if settings.secret_arn:
        with redaction.quiet("botocore", "urllib3"):  # their DEBUG lines would carry the secret before it is known
            resp = aws.client("secretsmanager").get_secret_value(SecretId=settings.secret_arn)
        return json.loads(resp["SecretString"])
    return {}


_cache: tuple[float, SecretBundle] | None = None
_cache_lock = threading.Lock()


def get_secrets(*, refresh: bool = False) -> SecretBundle:
    global _cache
    settings = get_settings()
    with _cache_lock:
        now = time.monotonic()
        if not refresh and _cache is not None and now - _cache[0] < settings.secrets_cache_seconds:
            return _cache[1]
        bundle = parse_bundle(_read_raw(settings))
        _cache = (now, bundle)
        return bundle


def clear_secrets_cache() -> None:
    global _cache
    with _cache_lock:
        _cache = None
