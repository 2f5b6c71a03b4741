"""Registries of the simulated world and the operations that create or look up its objects."""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from simulator.commands import CommandRegistry
from simulator.config import SimConfig
from simulator.constants import MIDJOURNEY_APP_ID, NIJI_APP_ID
from simulator.ids import Snowflakes, derive_rng, random_uuid, snowflake_at, user_token
from simulator.state import PLANS, Account, AttachmentRecord, Channel, Guild, Job, MessageRecord, Upload

JSON = dict[str, Any]

# Accounts get ids over a fixed date so that they are identical for identical seeds.
_ACCOUNT_EPOCH_MS = 1_650_000_000_000
_MAX_EPHEMERAL = 20000
_MAX_ATTACHMENTS = 200_000


class World:
    """Everything the REST API, the gateway and the bot share."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.commands = CommandRegistry()
        self.snowflakes = Snowflakes(worker=1)
        self.accounts: OrderedDict[str, Account] = OrderedDict()  # by user id
        self.by_token: dict[str, Account] = {}
        self.guilds: dict[str, Guild] = {}
        self.channels: dict[str, Channel] = {}
        self.message_index: dict[str, MessageRecord] = {}
        self.ephemeral: OrderedDict[str, MessageRecord] = OrderedDict()
        self.attachments: OrderedDict[str, AttachmentRecord] = OrderedDict()
        self.uploads: OrderedDict[str, Upload] = OrderedDict()
        self.upload_bytes = 0
        self.jobs: dict[str, Job] = {}
        self.banned_words: list[str] = []
        self._account_seq = 0

    # ----- accounts, guilds, channels -------------------------------------------------------------------------
    def _fixed_id(self, *labels: object) -> str:
        rng = derive_rng(self.config.seed, "id", *labels)
        return snowflake_at(_ACCOUNT_EPOCH_MS + rng.randrange(10**10), rng.randrange(1, 32), rng.randrange(4096))

    def add_account(
        self,
        *,
        name: str | None = None,
        plan: str = "standard",
        mode: str = "fast",
        fast_hours: float | None = None,
        remix: bool = False,
        stealth: bool = False,
        concurrency: int | None = None,
        max_queued: int | None = None,
        guild_id: str | None = None,
        subscription_active: bool = True,
        token: str | None = None,
    ) -> Account:
        if plan not in PLANS:
            raise ValueError(f"unknown plan {plan!r}; expected one of {sorted(PLANS)}")
        if mode not in ("fast", "relax", "turbo"):
            raise ValueError("mode must be fast, relax or turbo")
        index = self._account_seq
        self._account_seq += 1
        rng = derive_rng(self.config.seed, "account", index)
        username = (name or f"user{index}").lower()
        if not username.replace("_", "").replace(".", "").isalnum() or len(username) > 32:
            raise ValueError("name must be 1-32 characters of letters, digits, '_' or '.'")
        if any(a.username == username for a in self.accounts.values()):
            raise ValueError(f"an account named {username!r} already exists")
        user_id = self._fixed_id("user", index)
        if token is not None and token in self.by_token:
            raise ValueError("token already in use")
        guild: Guild
        if guild_id is not None:
            existing = self.guilds.get(guild_id)
            if existing is None:
                raise ValueError(f"unknown guild {guild_id}")
            guild = existing
            guild.member_ids.append(user_id)
            for guild_channel_id in guild.channel_ids:
                self.channels[guild_channel_id].member_ids.append(user_id)
            channel_id = guild.channel_ids[0]
        else:
            guild = Guild(
                id=self._fixed_id("guild", index),
                name=f"{username}'s server",
                owner_id=user_id,
                member_ids=[user_id],
                channel_ids=[],
                bot_app_ids=[MIDJOURNEY_APP_ID, NIJI_APP_ID],
            )
            self.guilds[guild.id] = guild
            channel_id = self._fixed_id("channel", index, 0)
            self._add_channel(guild, channel_id, "midjourney")
        dm_ids = {
            "midjourney": self._fixed_id("dm", index, "midjourney"),
            "niji": self._fixed_id("dm", index, "niji"),
        }
        for key, app_id in (("midjourney", MIDJOURNEY_APP_ID), ("niji", NIJI_APP_ID)):
            self.channels[dm_ids[key]] = Channel(
                id=dm_ids[key], type=1, name="", guild_id=None, member_ids=[user_id], bot_app_ids=[app_id]
            )
        _plan_name, plan_hours, plan_concurrency = PLANS[plan]
        account = Account(
            index=index,
            user_id=user_id,
            username=username,
            token=token or user_token(rng, user_id),
            email=f"{username}@sim.invalid",
            guild_id=guild.id,
            channel_id=channel_id,
            channel_ids=list(guild.channel_ids),
            dm_channel_ids=dm_ids,
            mj_user_id=random_uuid(rng),
            plan=plan,
            subscription_active=subscription_active,
            mode=mode,
            stealth=stealth,
            fast_hours_total=plan_hours if fast_hours is None else float(fast_hours),
            concurrency=concurrency
            or (self.config.fast_concurrency if plan in ("trial", "basic", "standard") else plan_concurrency),
            max_queued=self.config.max_queued if max_queued is None else max_queued,
            renews_at=int(time.time()) + 30 * 86400,
        )
        for settings in account.settings.values():
            settings.remix = remix
        account.initial = {
            "plan": plan,
            "mode": mode,
            "fast_hours_total": account.fast_hours_total,
            "remix": remix,
            "stealth": stealth,
            "subscription_active": subscription_active,
        }
        self.accounts[user_id] = account
        self.by_token[account.token] = account
        return account

    def _add_channel(self, guild: Guild, channel_id: str, name: str) -> Channel:
        channel = Channel(
            id=channel_id,
            type=0,
            name=name,
            guild_id=guild.id,
            member_ids=list(guild.member_ids),
            bot_app_ids=list(guild.bot_app_ids),
        )
        guild.channel_ids.append(channel_id)
        self.channels[channel_id] = channel
        return channel

    def add_channel(self, account: Account, name: str = "midjourney") -> Channel:
        """Another guild text channel (in the account's guild) where both bots are present."""
        guild = self.guilds[account.guild_id]
        channel = self._add_channel(guild, self._fixed_id("channel", account.index, len(guild.channel_ids)), name)
        for member_id in guild.member_ids:
            member = self.accounts.get(member_id)
            if member is not None and channel.id not in member.channel_ids:
                member.channel_ids.append(channel.id)
        return channel

    def account(self, key: str) -> Account | None:
        """Find an account by user id, username or token."""
        found = self.accounts.get(key) or self.by_token.get(key)
        if found is not None:
            return found
        return next((a for a in self.accounts.values() if a.username == key.lower()), None)

    def authenticate(self, token: str | None) -> Account | None:
        if not token:
            return None
        account = self.by_token.get(token.strip())
        if account is None or not account.token_valid:
            return None
        return account

    def can_see(self, account: Account, channel: Channel) -> bool:
        return account.user_id in channel.member_ids

    # ----- messages --------------------------------------------------------------------------------------------
    def store_message(self, record: MessageRecord) -> None:
        if record.ephemeral_user is not None:
            self.ephemeral[record.id] = record
            while len(self.ephemeral) > _MAX_EPHEMERAL:
                self.ephemeral.popitem(last=False)
            return
        channel = self.channels[record.channel_id]
        channel.messages[record.id] = record
        channel.last_message_id = record.id
        self.message_index[record.id] = record
        while len(channel.messages) > self.config.max_messages_per_channel:
            _, old = channel.messages.popitem(last=False)
            self.message_index.pop(old.id, None)

    def find_message(self, message_id: str) -> MessageRecord | None:
        return self.message_index.get(message_id) or self.ephemeral.get(message_id)

    # ----- attachments and uploads -----------------------------------------------------------------------------
    def add_attachment(self, record: AttachmentRecord) -> None:
        self.attachments[record.id] = record
        while len(self.attachments) > _MAX_ATTACHMENTS:
            self.attachments.popitem(last=False)

    def add_upload(self, upload: Upload) -> None:
        self.uploads[upload.upload_filename] = upload

    def complete_upload(self, upload: Upload, data: bytes) -> None:
        if upload.data is not None:
            self.upload_bytes -= len(upload.data)
        upload.data = data
        self.upload_bytes += len(data)
        self.uploads.move_to_end(upload.upload_filename)
        while self.upload_bytes > self.config.upload_cache_bytes and len(self.uploads) > 1:
            _, old = self.uploads.popitem(last=False)
            if old.data is not None:
                self.upload_bytes -= len(old.data)

    # ----- jobs ------------------------------------------------------------------------------------------------
    def add_job(self, job: Job) -> None:
        self.jobs[job.id] = job
        account = job.account
        account.jobs[job.id] = job
        while len(account.jobs) > self.config.max_jobs_per_account:
            _, old = account.jobs.popitem(last=False)
            if old.finished:
                self.jobs.pop(old.id, None)
            else:
                account.jobs[old.id] = old
                break
