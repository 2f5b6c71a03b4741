"""Ed25519 signatures on webhook bodies, exactly Discord's interaction-signature scheme.

``X-Signature-Timestamp`` is the Unix time in seconds (decimal text) and ``X-Signature-Ed25519`` the hex signature of
``timestamp + body`` (bytes). Receivers verify with the public key served at ``GET /mj/webhook/public-key``.

The key is the secret's ``webhook_signing_key``: the 32-byte Ed25519 seed in hex (the offline stack generates one).
Without it, the key is derived from the admin key (HMAC-SHA256 over a fixed label), so a deployment signs from day
one; rotating the admin key then rotates the webhook key. The private key is never logged nor returned.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from nacl.encoding import HexEncoder
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from mjapi.secrets import SecretBundle

_DERIVATION_LABEL = b"mjapi webhook signing key v1"
SIGNATURE_HEADER = "X-Signature-Ed25519"
TIMESTAMP_HEADER = "X-Signature-Timestamp"


class SigningKeyInvalid(ValueError):
    """``webhook_signing_key`` is not 64 hex characters."""


def new_seed_hex() -> str:
    """A fresh signing key for the secret (what the offline stack puts there)."""
    return secrets.token_hex(32)


def signing_key(bundle: SecretBundle) -> SigningKey | None:
    """The configured key, the one derived from the admin key, or None when the secret has neither."""
    if bundle.webhook_signing_key is not None:
        text = bundle.webhook_signing_key.get_secret_value().strip()
        try:
            seed = bytes.fromhex(text)
        except ValueError:
            seed = b""
        if len(seed) != 32:
            raise SigningKeyInvalid("webhook_signing_key must be 64 hex characters (an Ed25519 seed)")
        return SigningKey(seed)
    if bundle.admin_key is not None:
        admin = bundle.admin_key.get_secret_value().encode()
        return SigningKey(hmac.new(admin, _DERIVATION_LABEL, hashlib.sha256).digest())
    return None


def public_key_hex(bundle: SecretBundle) -> str | None:
    key = signing_key(bundle)
    return key.verify_key.encode(encoder=HexEncoder).decode() if key is not None else None


def sign(key: SigningKey, timestamp: str, body: bytes) -> str:
    """The hex signature of ``timestamp + body``."""
    return key.sign(timestamp.encode() + body).signature.hex()


def verify(public_key_hex: str, timestamp: str, body: bytes, signature_hex: str) -> bool:
    """What a receiver does (tests use it too): True if the signature is valid for this key, timestamp and body."""
    try:
        VerifyKey(bytes.fromhex(public_key_hex)).verify(timestamp.encode() + body, bytes.fromhex(signature_hex))
    except (BadSignatureError, ValueError):
        return False
    return True
