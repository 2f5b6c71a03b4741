"""The account pool as clients and operators see it: devices with their waiting jobs, health, mode switches."""

from __future__ import annotations

from dataclasses import dataclass

from mjapi.models import Account, Bot, Health, Job, JobKind
from mjapi.service.context import Context
from mjapi.service.errors import bad_request, not_found
from mjapi.service.jobs import new_job, submit, wait_for
from mjapi.store import keys
from mjapi.store.accounts import get_account, list_accounts, set_health

#: Account commands: the speed modes, /info, /settings, and "remix" (``/prefer remix``, which toggles Remix mode).
SWITCH_COMMANDS = ("fast", "relax", "turbo", "info", "settings", "remix")


@dataclass(frozen=True)
class Device:
    account: Account
    queued: int
    """Jobs waiting for this account in particular (buttons on its own messages)."""


def devices(ctx: Context) -> list[Device]:
    """Every account, by id, with the depth of its own queue."""
    depths = ctx.jobs.queue_depths()
    return [Device(a, depths.get(keys.account_queue_key(a.id), 0)) for a in list_accounts(ctx.table)]


def enable(ctx: Context, account_id: str) -> Device:
    """Put an account back into rotation (after a captcha, a moderator message or a lapsed subscription)."""
    account = set_health(ctx.table, account_id, Health.OK, "enabled by operator")
    if account is None:
        raise not_found("account")
    return Device(account, ctx.jobs.queue_depths().get(keys.account_queue_key(account.id), 0))


def switch(
    ctx: Context,
    *,
    command: str,
    account_id: str | None = None,
    channel_id: str | None = None,
    bot: Bot | None = None,
) -> Job:
    """Send /fast, /relax, /turbo, /info, /settings or /prefer remix to one of the account's bots (by id or by channel,
    as the original's client_id) and wait up to ``switch_wait_seconds`` for the outcome; the job is returned as it
    stands then. The speed mode is the subscription's, whichever bot is told; settings such as Remix are per bot."""
    if command not in SWITCH_COMMANDS:
        raise bad_request("invalid_type", f"type must be one of {', '.join(SWITCH_COMMANDS)}.")
    account = None
    if account_id:
        account = get_account(ctx.table, account_id)
    elif channel_id:
        account = next((a for a in list_accounts(ctx.table) if a.channel_id == channel_id), None)
    else:
        raise bad_request("account_required", "Name the account with 'client_id' (its channel id) or 'account'.")
    if account is None:
        raise not_found("account")
    if bot is not None and not account.serves(bot):
        raise bad_request("bot_not_offered", f"The account does not offer the {bot.value} bot.")
    kind = JobKind.INFO if command in ("info", "settings") else JobKind.SWITCH
    job = new_job(kind, None, bot=bot or account.bots[0], account_id=account.id, options={"command": command})
    return wait_for(ctx, submit(ctx, job, charge=False), ctx.settings.switch_wait_seconds)
