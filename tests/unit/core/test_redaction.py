"""Log redaction: secrets are masked in every record, however they are logged."""

from __future__ import annotations

import logging

import pytest

from mjapi import redaction

DISCORD_TOKEN = "MTEwMTgwODU0Nzg1NzE3NDU1OA.GQu5KQ.abcdefghijklmnopqrstuvwxyz0123"


@pytest.fixture(autouse=True)
def _installed() -> None:
    redaction.install()


def test_registered_secrets_and_token_shapes_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    redaction.register("super-secret-admin-key-42")
    log = logging.getLogger("some.library")
    with caplog.at_level(logging.DEBUG):
        log.info("admin %s used", "super-secret-admin-key-42")
        log.debug("GET /midjourney/job?id=1&token=mjk_abcdefghijklmnop&x=1")
        log.warning("Authorization: %s", DISCORD_TOKEN)
        log.info("body %r", {"token": "mjk_0123456789abcdef"})
        log.info("nothing secret: %d jobs", 3)
        log.debug("params %s", {"token": "short", "prompt": "a cat"})
        log.debug('json {"admin_key": "k3y-value", "count": 3}')
    text = caplog.text
    assert "super-secret-admin-key-42" not in text
    assert "mjk_abcdefghijklmnop" not in text
    assert "mjk_0123456789abcdef" not in text
    assert DISCORD_TOKEN not in text
    assert "token=***&x=1" in text
    assert "nothing secret: 3 jobs" in text
    assert "'token': '***'" in text
    assert "'prompt': 'a cat'" in text
    assert '"admin_key": "***"' in text


def test_short_values_are_not_registered() -> None:
    redaction.register("abc", None, "")
    assert redaction.redact("abc and a cab") == "abc and a cab"


def test_install_is_idempotent(caplog: pytest.LogCaptureFixture) -> None:
    redaction.install()
    redaction.install()
    with caplog.at_level(logging.INFO):
        logging.getLogger("x").info("token=%s", "abcdefghij")
    assert caplog.records[-1].getMessage() == "token=***"


def test_escaped_json_inside_a_string_is_masked() -> None:
    """botocore at DEBUG logs a Secrets Manager response whose SecretString is JSON inside a JSON string."""
    line = (
        r'b\'{"SecretString":"{\\"admin_key\\": \\"k-1234567890\\", \\"webhook_signing_key\\": \\"abcdef012345\\"}"}\''
    )
    cleaned = redaction.redact(line)
    assert "k-1234567890" not in cleaned
    assert "abcdef012345" not in cleaned
    assert 'admin_key\\\\": \\\\"***' in cleaned


def test_quiet_raises_a_logger_to_info_for_a_while(caplog: pytest.LogCaptureFixture) -> None:
    log = logging.getLogger("botocore.endpoint")
    with caplog.at_level(logging.DEBUG):
        with redaction.quiet("botocore"):
            log.debug("response body with a secret")
        log.debug("afterwards")
    assert "response body with a secret" not in caplog.text
    assert "afterwards" in caplog.text
