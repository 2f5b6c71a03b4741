"""Account items: configuration mirrored from the secret, plus live state (slots, health, gateway session)."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable
from typing import Any

from mjapi.clock import now_ms
from mjapi.models import Account, AccountConfig, Health
from mjapi.store import keys
from mjapi.store.table import ConditionFailed, Table


def sync_accounts(table: Table, configs: Iterable[AccountConfig]) -> None:
    """Upsert configured accounts. Live state (slots, health, session) is kept; the mode is only set on creation
    because /fast and /relax change it at run time."""
    now = now_ms()
    for cfg in configs:
        table.update(
            keys.account_pk(cfg.id),
            keys.ACCOUNT_SK,
            "SET id = :id, channel_id = :channel, guild_id = :guild, bots = :bots, concurrency = :conc, "
            "enabled = :enabled, updated_at = :now, gsi1pk = :gsi, gsi1sk = :id, "
            "#mode = if_not_exists(#mode, :mode), slots_used = if_not_exists(slots_used, :zero), "
            "health = if_not_exists(health, :ok)",
            names={"#mode": "mode"},
            vals={
                ":id": cfg.id,
                ":channel": cfg.channel_id,
                ":guild": cfg.guild_id or "",
                ":bots": [bot.value for bot in cfg.bots],
                ":conc": cfg.concurrency,
                ":enabled": cfg.enabled,
                ":now": now,
                ":gsi": keys.ACCOUNTS_GSI,
                ":mode": cfg.mode.value,
                ":zero": 0,
                ":ok": Health.OK.value,
            },
        )


def _to_account(item: dict[str, Any]) -> Account:
    data = dict(item)
    if data.get("guild_id") == "":
        data["guild_id"] = None
    if "bots" not in data and "bot" in data:  # an item written before accounts served several bots
        data["bots"] = [data["bot"]]
    for document in ("info", "settings"):
        if isinstance(data.get(document), str):
            data[document] = json.loads(data[document])
    return Account.model_validate(data)


def get_account(table: Table, account_id: str) -> Account | None:
    item = table.get(keys.account_pk(account_id), keys.ACCOUNT_SK)
    return _to_account(item) if item else None


_recent: dict[str, tuple[float, list[Account]]] = {}


def list_accounts(table: Table, *, max_age: float = 0.0) -> list[Account]:
    """All accounts (via GSI1; eventually consistent, which is fine: reservations are conditional writes).

    ``max_age`` lets a hot path reuse a list read that many seconds ago: a stale slot count only costs a lost
    reservation race, never a wrong outcome."""
    if max_age > 0:
        cached = _recent.get(table.name)
        if cached is not None and time.monotonic() - cached[0] < max_age:
            return [a.model_copy() for a in cached[1]]
    items = table.query_all("gsi1pk = :p", vals={":p": keys.ACCOUNTS_GSI}, index="gsi1")
    accounts = sorted((_to_account(i) for i in items), key=lambda a: a.id)
    _recent[table.name] = (time.monotonic(), accounts)
    return [a.model_copy() for a in accounts]


def reserve_slot_operation(account_id: str, *, bot: str, mode: str | None) -> dict[str, object]:
    """Transaction step taking one slot; fails if the account is full, unhealthy, disabled, without that bot, in
    another mode, or without a live relay (no session, or a heartbeat that ran out: see ``Account.connected_at``)."""
    condition = (
        "slots_used < concurrency AND health = :ok AND enabled = :true AND contains(bots, :bot) "
        "AND session_id > :nothing AND heartbeat_until > :now"
    )
    vals: dict[str, object] = {
        ":one": 1,
        ":ok": Health.OK.value,
        ":true": True,
        ":bot": bot,
        ":now": now_ms(),
        ":nothing": "",
    }
    names: dict[str, str] = {}
    if mode:
        condition += " AND #mode = :mode"
        vals[":mode"] = mode
        names["#mode"] = "mode"
    spec: dict[str, object] = {
        "Key": {"pk": keys.account_pk(account_id), "sk": keys.ACCOUNT_SK},
        "UpdateExpression": "SET slots_used = slots_used + :one, last_assigned_at = :now",
        "ConditionExpression": condition,
        "ExpressionAttributeValues": vals,
    }
    if names:
        spec["ExpressionAttributeNames"] = names
    return {"Update": spec}


def release_slot_operation(account_id: str) -> dict[str, object]:
    return {
        "Update": {
            "Key": {"pk": keys.account_pk(account_id), "sk": keys.ACCOUNT_SK},
            "UpdateExpression": "SET slots_used = slots_used - :one",
            "ConditionExpression": "slots_used >= :one",
            "ExpressionAttributeValues": {":one": 1},
        }
    }


def set_health(table: Table, account_id: str, health: Health, reason: str | None = None) -> Account | None:
    """Record an account's health; returns the updated account or None if it does not exist."""
    try:
        item = table.update(
            keys.account_pk(account_id),
            keys.ACCOUNT_SK,
            "SET health = :h, health_reason = :r, health_changed_at = :now",
            condition="attribute_exists(pk)",
            vals={":h": health.value, ":r": reason or "", ":now": now_ms()},
        )
    except ConditionFailed:
        return None
    return _to_account(item)


# How long a relay's word counts when it does not say (the relay passes its lease time).
DEFAULT_LIVE_SECONDS = 30.0


def set_session(
    table: Table,
    account_id: str,
    session_id: str | None,
    *,
    owner: str = "",
    live_seconds: float = DEFAULT_LIVE_SECONDS,
) -> None:
    """Publish the relay's gateway session (READY or RESUMED): the relay is alive now, so this is a heartbeat too.
    ``None`` clears the session and the heartbeat."""
    now = now_ms()
    table.update(
        keys.account_pk(account_id),
        keys.ACCOUNT_SK,
        "SET session_id = :s, session_at = :now, heartbeat_until = :until, relay_owner = :owner",
        condition="attribute_exists(pk)",
        vals={
            ":s": session_id or "",
            ":now": now,
            ":until": now + int(live_seconds * 1000) if session_id else 0,
            ":owner": owner,
        },
    )


def heartbeat(table: Table, account_id: str, owner: str, live_seconds: float) -> bool:
    """The relay ``owner`` still holds this account's session: vouch for it ``live_seconds`` more. Written with every
    lease renewal, so a relay that dies stops counting as connected within its lease time. False if no such account."""
    try:
        table.update(
            keys.account_pk(account_id),
            keys.ACCOUNT_SK,
            "SET heartbeat_until = :until, relay_owner = :owner",
            condition="attribute_exists(pk)",
            vals={":until": now_ms() + int(live_seconds * 1000), ":owner": owner},
        )
    except ConditionFailed:
        return False
    return True


def clear_heartbeat(table: Table, account_id: str, owner: str) -> None:
    """A relay letting go of an account (shutdown, lease lost) stops vouching for it at once, unless another relay
    has vouched for it since."""
    with contextlib.suppress(ConditionFailed):
        table.update(
            keys.account_pk(account_id),
            keys.ACCOUNT_SK,
            "SET heartbeat_until = :zero",
            condition="relay_owner = :owner",
            vals={":zero": 0, ":owner": owner},
        )


def set_mode(table: Table, account_id: str, mode: str) -> None:
    table.update(
        keys.account_pk(account_id),
        keys.ACCOUNT_SK,
        "SET #mode = :m",
        condition="attribute_exists(pk)",
        names={"#mode": "mode"},
        vals={":m": mode},
    )


def set_info(table: Table, account_id: str, info: dict[str, Any]) -> None:
    table.update(
        keys.account_pk(account_id),
        keys.ACCOUNT_SK,
        "SET info = :i, info_at = :now",
        condition="attribute_exists(pk)",
        vals={":i": json.dumps(info, separators=(",", ":")), ":now": now_ms()},
    )


def drop_bot(table: Table, account_id: str, bot: str) -> None:
    """Stop offering ``bot`` on the account (its bot is not in the channel); an account left with none is disabled."""
    item = table.get(keys.account_pk(account_id), keys.ACCOUNT_SK)
    if item is None:
        return
    bots = [b for b in _to_account(item).bots if b.value != bot]
    if not bots:
        set_health(table, account_id, Health.DISABLED, f"the {bot} bot is not in the channel")
        return
    table.update(
        keys.account_pk(account_id),
        keys.ACCOUNT_SK,
        "SET bots = :bots",
        condition="attribute_exists(pk)",
        vals={":bots": [b.value for b in bots]},
    )
    _recent.pop(table.name, None)  # this process stops routing that bot here at once


def set_settings(table: Table, account_id: str, bot: str, settings: dict[str, Any]) -> None:
    """Merge what a bot said about the account's settings with it (remix, high variability, ...)."""
    item = table.get(keys.account_pk(account_id), keys.ACCOUNT_SK)
    if item is None:
        return
    current = json.loads(item["settings"]) if isinstance(item.get("settings"), str) else {}
    current[bot] = {**current.get(bot, {}), **settings}
    table.update(
        keys.account_pk(account_id),
        keys.ACCOUNT_SK,
        "SET settings = :s",
        condition="attribute_exists(pk)",
        vals={":s": json.dumps(current, separators=(",", ":"))},
    )


def set_health_if(
    table: Table, account_id: str, health: Health, *, expected: Health, reason: str | None = None
) -> bool:
    """Change health only from ``expected`` (e.g. ok <-> disconnected must not overwrite a captcha)."""
    try:
        table.update(
            keys.account_pk(account_id),
            keys.ACCOUNT_SK,
            "SET health = :h, health_reason = :r, health_changed_at = :now",
            condition="health = :expected",
            vals={":h": health.value, ":r": reason or "", ":now": now_ms(), ":expected": expected.value},
        )
    except ConditionFailed:
        return False
    return True


def save_gateway_resume(table: Table, account_id: str, state: dict[str, Any] | None) -> None:
    """Persist what a restarted relay needs to RESUME this account's session (and get the missed events)."""
    if state is None:
        table.update(
            keys.account_pk(account_id), keys.ACCOUNT_SK, "REMOVE gateway_resume", condition="attribute_exists(pk)"
        )
        return
    table.update(
        keys.account_pk(account_id),
        keys.ACCOUNT_SK,
        "SET gateway_resume = :s",
        condition="attribute_exists(pk)",
        vals={":s": {**state, "saved_at": now_ms()}},
    )


def load_gateway_resume(table: Table, account_id: str) -> dict[str, Any] | None:
    item = table.get(keys.account_pk(account_id), keys.ACCOUNT_SK)
    state = item.get("gateway_resume") if item else None
    return dict(state) if isinstance(state, dict) else None
