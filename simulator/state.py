"""The simulated world's data: accounts, guilds, channels, messages, attachments, uploads and jobs."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from simulator.commands import BotApp
from simulator.images import ImageSpec
from simulator.prompts import DEFAULT_MJ_VERSION, DEFAULT_NIJI_VERSION

JSON = dict[str, Any]

PLANS: dict[str, tuple[str, float, int]] = {
    # plan key: (display name, monthly fast hours, concurrent fast jobs)
    "trial": ("Trial", 25 / 60, 3),  # /info: "None (Trial)", fast time in minutes, no Job Mode line
    "basic": ("Basic", 3.3, 3),
    "standard": ("Standard", 15.0, 3),
    "pro": ("Pro", 30.0, 12),
    "mega": ("Mega", 60.0, 12),
}
JOB_MODES = ("fast", "relax", "turbo")


@dataclass
class BotSettings:
    """Per-bot preferences (/settings, /prefer); Midjourney and Niji keep separate ones, like TA's Components."""

    version: str
    remix: bool = False
    high_variability: bool = True
    raw: bool = False
    stylize: int | None = None
    niji_style: str | None = None
    suffix: str = ""
    auto_dm: bool = False
    options: dict[str, str] = field(default_factory=dict)

    def settings_suffix(self, default_version: str) -> str:
        """The parameters /settings appends to prompts (empty while everything is at its default)."""
        parts: list[str] = []
        if self.version != default_version:
            parts.append(
                f"--niji {self.version.split()[-1]}" if self.version.startswith("niji") else f"--v {self.version}"
            )
        if self.raw:
            parts.append("--style raw")
        elif self.niji_style:
            parts.append(f"--style {self.niji_style}")
        if self.stylize is not None:
            parts.append(f"--s {self.stylize}")
        if self.suffix:
            parts.append(self.suffix)
        return " ".join(parts)

    def to_json(self) -> JSON:
        return {
            "version": self.version,
            "remix": self.remix,
            "high_variability": self.high_variability,
            "raw": self.raw,
            "stylize": self.stylize,
            "niji_style": self.niji_style,
            "suffix": self.suffix,
            "auto_dm": self.auto_dm,
            "options": dict(self.options),
        }


class AccountList(list["Account"]):
    """A list of accounts that can also be called (``sim.accounts`` and ``sim.accounts()`` both work)."""

    def __call__(self) -> list[Account]:
        return list(self)


def default_settings() -> dict[str, BotSettings]:
    return {"midjourney": BotSettings(DEFAULT_MJ_VERSION), "niji": BotSettings(DEFAULT_NIJI_VERSION)}


@dataclass
class Account:
    """A Discord user with a Midjourney subscription."""

    index: int
    user_id: str
    username: str
    token: str
    email: str
    guild_id: str
    channel_id: str
    channel_ids: list[str]
    dm_channel_ids: dict[str, str]  # bot key ("midjourney" | "niji") -> DM channel id
    mj_user_id: str
    plan: str = "standard"
    subscription_active: bool = True
    mode: str = "fast"
    stealth: bool = False
    fast_hours_total: float = 15.0
    fast_seconds_used: float = 0.0
    concurrency: int = 3
    max_queued: int = 10
    settings: dict[str, BotSettings] = field(default_factory=default_settings)
    token_valid: bool = True
    blocked: bool = False
    pending_mod: bool = False
    tos_pending: bool = False
    captcha: str | None = None
    captcha_variant: str = "embed"
    lifetime_images: int = 0
    lifetime_seconds: float = 0.0
    relaxed_images: int = 0
    relaxed_seconds: float = 0.0
    job_counter: int = 0
    renews_at: int = 0
    running: list[Job] = field(default_factory=list)
    queued: deque[Job] = field(default_factory=deque)
    jobs: OrderedDict[str, Job] = field(default_factory=OrderedDict)
    initial: JSON = field(default_factory=dict)

    @property
    def global_name(self) -> str:
        return self.username.capitalize()

    @property
    def fast_remaining_hours(self) -> float:
        return max(0.0, self.fast_hours_total - self.fast_seconds_used / 3600.0)

    @property
    def relax_allowed(self) -> bool:
        """Relax mode needs a Standard plan or better (Basic and trial accounts have fast time only)."""
        return self.plan not in ("basic", "trial")

    @property
    def mj_numeric_id(self) -> str:
        """The digits after `u` in 2026 filenames (`u2233346927_<slug>_<uuid>.webp`), derived from the MJ user id."""
        return str(1_000_000_000 + int(self.mj_user_id.replace("-", ""), 16) % 9_000_000_000)

    @property
    def dm_channel_id(self) -> str:
        return self.dm_channel_ids["midjourney"]

    def user_json(self) -> JSON:
        return {
            "id": self.user_id,
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
            "avatar_decoration_data": None,
            "public_flags": 0,
        }

    def me_json(self) -> JSON:
        return {
            **self.user_json(),
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "bio": "",
            "locale": "en-US",
            "nsfw_allowed": False,
            "mfa_enabled": False,
            "premium_type": 0,
            "email": self.email,
            "verified": True,
            "phone": None,
        }

    def to_json(self) -> JSON:
        """The account as the control API shows it (includes the token: the control API is for test harnesses)."""
        return {
            "token": self.token,
            "user_id": self.user_id,
            "username": self.username,
            "guild_id": self.guild_id,
            "channel_id": self.channel_id,
            "channel_ids": list(self.channel_ids),
            "dm_channel_ids": dict(self.dm_channel_ids),
            "mj_user_id": self.mj_user_id,
            "plan": self.plan,
            "subscription_active": self.subscription_active,
            "mode": self.mode,
            "stealth": self.stealth,
            "fast_hours_total": self.fast_hours_total,
            "fast_hours_remaining": round(self.fast_remaining_hours, 4),
            "concurrency": self.concurrency,
            "max_queued": self.max_queued,
            "token_valid": self.token_valid,
            "events": self.active_events(),
            "settings": {key: value.to_json() for key, value in self.settings.items()},
            "running_jobs": [job.id for job in self.running],
            "queued_jobs": [job.id for job in self.queued],
            "lifetime_images": self.lifetime_images,
        }

    def active_events(self) -> list[str]:
        events = []
        if self.captcha:
            events.append("captcha")
        if self.blocked:
            events.append("ban")
        if self.pending_mod:
            events.append("pending_mod")
        if self.tos_pending:
            events.append("tos")
        if not self.subscription_active:
            events.append("subscription_lapse")
        if self.fast_remaining_hours <= 0:
            events.append("out_of_fast_hours")
        if not self.token_valid:
            events.append("disable_token")
        return events


@dataclass
class Guild:
    id: str
    name: str
    owner_id: str
    member_ids: list[str]
    channel_ids: list[str]
    bot_app_ids: list[str]


@dataclass
class MessageRecord:
    """A stored message: its Discord JSON plus what the bot needs to act on clicks."""

    data: JSON
    channel_id: str
    ephemeral_user: str | None = None
    job: Job | None = None
    kind: str = "user"
    deleted: bool = False
    extra: JSON = field(default_factory=dict)
    reactions: dict[str, set[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def flags(self) -> int:
        return int(self.data.get("flags", 0))

    def custom_ids(self) -> set[str]:
        ids: set[str] = set()
        for row in self.data.get("components", []):
            for component in row.get("components", []):
                if "custom_id" in component:
                    ids.add(component["custom_id"])
        return ids


@dataclass
class Channel:
    id: str
    type: int  # 0 guild text, 1 DM
    name: str
    guild_id: str | None
    member_ids: list[str]
    bot_app_ids: list[str]
    messages: OrderedDict[str, MessageRecord] = field(default_factory=OrderedDict)
    last_message_id: str | None = None

    def to_json(self) -> JSON:
        if self.type == 1:
            return {
                "id": self.id,
                "type": 1,
                "last_message_id": self.last_message_id,
                "flags": 0,
                "recipients": [],
                "recipient_ids": list(self.bot_app_ids),
            }
        return {
            "id": self.id,
            "type": 0,
            "guild_id": self.guild_id,
            "name": self.name,
            "position": 0,
            "parent_id": None,
            "topic": None,
            "nsfw": False,
            "last_message_id": self.last_message_id,
            "rate_limit_per_user": 0,
            "permission_overwrites": [],
            "flags": 0,
        }


@dataclass
class AttachmentRecord:
    """A file reachable through the CDN."""

    id: str
    channel_id: str
    filename: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    spec: ImageSpec | None = None
    upload_key: str | None = None
    ephemeral: bool = False
    folder: str | None = None  # the CDN path segment before the attachment id (default: the channel id)


@dataclass
class Upload:
    """A pending or completed `PUT upload_url`."""

    upload_filename: str
    filename: str
    channel_id: str
    user_id: str
    declared_size: int
    upload_id: str
    data: bytes | None = None
    created: float = field(default_factory=time.time)


@dataclass
class Origin:
    """The interaction a message or job answers (feeds `interaction` and `interaction_metadata`)."""

    interaction_id: str
    interaction_type: int  # 2 command, 3 component, 5 modal submit
    name: str  # full command name ("imagine", "prefer remix"); "" for components and modals
    user: Account
    session_id: str
    guild_id: str | None
    interacted_message_id: str | None = None
    triggering: Origin | None = None

    def metadata_json(self) -> JSON:
        user = self.user
        owners = {"0": self.guild_id} if self.guild_id else {"1": user.user_id}
        data: JSON = {
            "id": self.interaction_id,
            "type": self.interaction_type,
            "user": user.user_json(),
            "user_id": user.user_id,
            "authorizing_integration_owners": owners,
        }
        if self.interaction_type == 2:
            data["name"] = self.name
            data["command_type"] = 1
        elif self.interaction_type == 3:
            data["interacted_message_id"] = self.interacted_message_id
        elif self.triggering is not None:
            data["triggering_interaction_metadata"] = self.triggering.metadata_json()
        return data

    def interaction_json(self) -> JSON | None:
        if self.interaction_type != 2:
            return None
        return {"id": self.interaction_id, "type": 2, "name": self.name, "user": self.user.user_json()}


@dataclass
class Job:
    """One Midjourney job (a GPU task with a job UUID)."""

    id: str
    account: Account
    app: BotApp
    kind: str  # imagine reroll variation upsample upscale pan zoom inpaint blend
    label: str  # the job part of the content, e.g. "Variations (Strong) by" ("" for imagine)
    prompt: str  # display prompt (between ** **)
    mode: str
    channel_id: str
    guild_id: str | None
    origin: Origin
    nonce: str | None
    seed: int
    ar: tuple[int, int]
    version: str
    palette_seed: int
    tag: int
    image: ImageSpec
    parent: Job | None = None
    parent_message_id: str | None = None
    index: int = 0
    status: str = "created"  # created queued waiting running succeeded failed cancelled
    progress: int = 0
    magic: frozenset[str] = frozenset()
    start_delay: float = 3.0
    duration: float = 40.0
    steps: list[int] = field(default_factory=list)
    progress_message_id: str | None = None
    result_message_id: str | None = None
    nonce_used: bool = False
    error: str | None = None
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    gpu_seconds: float = 0.0
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    sleepers: set[asyncio.Future[bool]] = field(default_factory=set)
    stall_release: asyncio.Event = field(default_factory=asyncio.Event)
    label_done: str = ""
    queued_notice_id: str | None = None
    pressed: tuple[str, str] | None = None  # (message id, custom_id) of the button whose click made this job

    @property
    def hash(self) -> str:
        """The "message hash" peers extract from URLs and custom_ids (it is the job UUID)."""
        return self.id

    def request_cancel(self) -> None:
        """Stop the job: wakes its lifecycle wherever it waits."""
        self.cancel.set()
        for sleeper in list(self.sleepers):
            if not sleeper.done():
                sleeper.set_result(False)

    @property
    def is_grid(self) -> bool:
        return self.image.kind == "grid"

    @property
    def finished(self) -> bool:
        return self.status in {"succeeded", "failed", "cancelled"}

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "user_id": self.account.user_id,
            "application_id": self.app.id,
            "kind": self.kind,
            "prompt": self.prompt,
            "mode": self.mode,
            "status": self.status,
            "progress": self.progress,
            "channel_id": self.channel_id,
            "interaction_id": self.origin.interaction_id,
            "nonce": self.nonce,
            "seed": self.seed,
            "version": self.version,
            "aspect_ratio": f"{self.ar[0]}:{self.ar[1]}",
            "width": self.image.width,
            "height": self.image.height,
            "grid": self.is_grid,
            "parent_id": self.parent.id if self.parent else None,
            "parent_message_id": self.parent_message_id,
            "index": self.index,
            "progress_message_id": self.progress_message_id,
            "result_message_id": self.result_message_id,
            "error": self.error,
            "magic": sorted(self.magic),
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "gpu_seconds": round(self.gpu_seconds, 3),
        }
