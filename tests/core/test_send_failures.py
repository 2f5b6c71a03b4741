"""Whatever goes wrong while sending, a job never keeps its slot or the caller's money."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mjapi.clock import now_ms
from mjapi.discord.commands import CommandCatalog, CommandNotFound
from mjapi.ids import new_job_id
from mjapi.models import Bot, Job, JobKind, JobStatus
from mjapi.secrets import clear_secrets_cache, get_secrets
from mjapi.service.context import Context
from mjapi.service.errors import ApiError
from mjapi.service.jobs import submit
from mjapi.service.submitter import SubmitFailure, Submitter
from mjapi.store.accounts import get_account, set_session, sync_accounts
from mjapi.store.table import Table
from mjapi.store.tokens import create_token, get_token


class ExplodingSubmitter(Submitter):
    def send(self, job: Job, account: Any, config: Any) -> None:
        raise RuntimeError("bug in the submit path")


@pytest.fixture
def ctx(table: Table, monkeypatch: pytest.MonkeyPatch) -> Context:
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps({"accounts": [{"id": "x1", "token": "t", "channel_id": "1"}]}))
    clear_secrets_cache()
    sync_accounts(table, get_secrets().accounts)
    set_session(table, "x1", "s" * 32)
    return Context.current(submitter=ExplodingSubmitter())


def test_unexpected_send_error_fails_the_job_frees_the_slot_and_refunds(ctx: Context) -> None:
    _clear, token = create_token(ctx.table, count=1, days=1)
    job = Job(id=new_job_id(), kind=JobKind.IMAGINE, token_hash=token.token_hash, prompt="x", created_at=now_ms())
    placed = submit(ctx, job)
    assert placed.status == JobStatus.FAILED
    assert placed.error is not None and placed.error.code == "submit_error"
    account = get_account(ctx.table, "x1")
    assert account is not None and account.slots_used == 0
    stored = get_token(ctx.table, token.token_hash)
    assert stored is not None and stored.remaining == 1


class NoNijiHereSubmitter(Submitter):
    """The channel's command index has no Niji commands at all: its bot is not in the channel."""

    def send(self, job: Job, account: Any, config: Any) -> None:
        if job.bot == Bot.NIJI:
            raise SubmitFailure("bot_unavailable", "The niji bot is not in the account's channel.", missing_bot=True)


def test_a_bot_missing_from_the_channel_is_no_longer_offered_there(ctx: Context) -> None:
    ctx.submitter = NoNijiHereSubmitter()
    assert get_account(ctx.table, "x1").bots == [Bot.MJ, Bot.NIJI]  # type: ignore[union-attr]
    _clear, token = create_token(ctx.table, count=2, days=1)
    job = Job(
        id=new_job_id(),
        kind=JobKind.IMAGINE,
        bot=Bot.NIJI,
        token_hash=token.token_hash,
        prompt="x",
        created_at=now_ms(),
    )
    placed = submit(ctx, job)
    assert placed.status == JobStatus.FAILED
    assert placed.error is not None and placed.error.code == "bot_unavailable"
    account = get_account(ctx.table, "x1")
    assert account is not None and account.bots == [Bot.MJ] and account.health.value == "ok" and account.slots_used == 0
    stored = get_token(ctx.table, token.token_hash)
    assert stored is not None and stored.remaining == 2
    with pytest.raises(ApiError) as refused:
        submit(ctx, job.model_copy(update={"id": new_job_id()}))
    assert refused.value.code == "no_account"


def test_the_command_catalog_tells_an_absent_bot_from_a_missing_command() -> None:
    class Index:
        def command_index(self, *, guild_id: str | None, channel_id: str) -> list[dict[str, Any]]:
            return [{"id": "1", "application_id": "936929561302675456", "version": "2", "name": "imagine", "type": 1}]

    catalog = CommandCatalog()
    with pytest.raises(CommandNotFound) as absent:
        catalog.get(Index(), application_id="1022952195194359889", name="imagine", guild_id="g", channel_id="c")  # type: ignore[arg-type]
    assert absent.value.application_absent
    with pytest.raises(CommandNotFound) as missing:
        catalog.get(Index(), application_id="936929561302675456", name="tune", guild_id="g", channel_id="c")  # type: ignore[arg-type]
    assert not missing.value.application_absent
