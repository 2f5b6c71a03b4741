"""Domain models shared by the API, the dispatcher and the relay."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from mjapi.clock import now_ms


class JobStatus(StrEnum):
    QUEUED = "queued"  # accepted, waiting for a free account slot (ours, not Midjourney's queue)
    SUBMITTED = "submitted"  # slot reserved, interaction sent (or about to be)
    WAITING = "waiting"  # the bot acknowledged it ("Waiting to start" / "Job queued")
    RUNNING = "running"  # progress reported
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # The midjourney-proxy face's placeholder for a button whose form the caller must fill first (/mj/submit/modal):
    # neither active nor terminal; holds no slot and is not charged until the form is submitted under the same id.
    MODAL = "modal"


ACTIVE_STATUSES = frozenset({JobStatus.SUBMITTED, JobStatus.WAITING, JobStatus.RUNNING})
TERMINAL_STATUSES = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELLED})


class JobKind(StrEnum):
    IMAGINE = "imagine"
    ACTION = "action"  # a button on a previous result (U/V/reroll/zoom/pan/...)
    DESCRIBE = "describe"
    BLEND = "blend"
    SHORTEN = "shorten"
    INFO = "info"
    SWITCH = "switch"  # /fast, /relax, /turbo
    SHOW = "show"  # /show <job uuid>: the bot re-posts a finished job with its buttons (adopts it); no slot


# Kinds that occupy a Midjourney concurrency slot; the others are instant slash commands.
ORIGINAL_API = "midjourney"  # Job.api of jobs made through /midjourney/* (the /mj face's is service.proxy.API)
SLOT_KINDS = frozenset({JobKind.IMAGINE, JobKind.ACTION, JobKind.DESCRIBE, JobKind.BLEND, JobKind.SHORTEN})


class Mode(StrEnum):
    FAST = "fast"
    RELAX = "relax"
    TURBO = "turbo"


class Bot(StrEnum):
    MJ = "mj"
    NIJI = "niji"


APPLICATION_IDS: dict[Bot, str] = {Bot.MJ: "936929561302675456", Bot.NIJI: "1022952195194359889"}


class Health(StrEnum):
    OK = "ok"
    DISCONNECTED = "disconnected"  # relay has no live gateway session (transient)
    CAPTCHA = "captcha"
    PENDING_MOD = "pending_mod"
    BANNED = "banned"
    SUBSCRIPTION = "subscription"  # subscription required / paused / cancelled
    BAD_TOKEN = "bad_token"  # noqa: S105  # gateway closed with 4004; never retried
    DISABLED = "disabled"  # switched off by the operator


class ErrorInfo(BaseModel):
    """Machine-readable ``code`` plus a message for humans."""

    model_config = ConfigDict(frozen=True)

    code: str
    message: str


class Button(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str = ""
    custom_id: str
    emoji: str | None = None
    style: int | None = None


class Image(BaseModel):
    """An image (or an Animate video, ``content_type`` video/mp4) re-hosted on our CDN (never a Discord link)."""

    model_config = ConfigDict(frozen=True)

    url: str
    key: str = ""
    width: int | None = None
    height: int | None = None
    content_type: str | None = None
    size: int | None = None


class Job(BaseModel):
    id: str
    kind: JobKind
    status: JobStatus = JobStatus.QUEUED
    token_hash: str = ""
    prompt: str = ""
    final_prompt: str | None = None
    bot: Bot = Bot.MJ
    mode: Mode | None = None  # requested mode; None lets the scheduler choose
    queue_key: str | None = None
    account_id: str | None = None
    holds_slot: bool = False  # True while the job occupies one of its account's slots
    channel_id: str | None = None
    guild_id: str | None = None
    nonce: str | None = None
    interaction_id: str | None = None
    message_id: str | None = None  # the bot's progress message
    result_message_id: str | None = None
    message_hash: str | None = None  # Midjourney's job UUID
    message_flags: int = 0
    # The progress message's own Cancel Job button (today's bot: a button job's ephemeral waiting/progress message)
    # and that message's flags, which a click on it must repeat (64: ephemeral).
    cancel_custom_id: str | None = None
    progress_flags: int = 0
    progress: int = 0
    preview_url: str | None = None
    images: list[Image] = Field(default_factory=list)
    videos: list[Image] = Field(default_factory=list)  # an Animate result's clip(s), video/mp4 on our CDN
    buttons: list[list[Button]] = Field(default_factory=list)
    prompts: list[str] = Field(default_factory=list)  # describe / shorten results
    info: dict[str, Any] = Field(default_factory=dict)  # /info fields, switch results
    upload_url: str | None = None  # describe: our copy of the uploaded image
    upload_filenames: list[str] = Field(default_factory=list)
    options: dict[str, Any] = Field(default_factory=dict)  # command-specific inputs (dimensions, switch target...)
    parent_id: str | None = None
    parent_message_id: str | None = None
    custom_id: str | None = None  # the button pressed (ACTION jobs)
    action: str | None = None  # that button's action in the action table (``ButtonAction`` value)
    index: int | None = None  # the image (1-4) or prompt number the button was pressed on
    children: list[str] = Field(default_factory=list)
    error: ErrorInfo | None = None
    notice: str | None = None  # the bot's latest non-fatal notice, e.g. "job_queued" (Midjourney's own queue)
    notify_hook: str | None = None
    state: str | None = None
    api: str = ORIGINAL_API  # the API face that submitted it ("midjourney" or "mj"): its webhooks take that shape
    counted: bool = False  # charged to its token and counted in the token's active jobs until it ends
    created_at: int = 0  # epoch milliseconds
    updated_at: int = 0
    submitted_at: int | None = None
    finished_at: int | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def video_url(self) -> str | None:
        """Our CDN URL of the job's video (an Animate result), else None."""
        return self.videos[0].url if self.videos else None


class AccountConfig(BaseModel):
    """One Discord account as configured by the operator (secret or file). The token never reaches the table."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    id: str = ""
    token: SecretStr
    channel_id: str
    guild_id: str | None = None
    mode: Mode = Mode.FAST
    bots: list[Bot] = Field(
        default_factory=lambda: [Bot.MJ, Bot.NIJI],
        min_length=1,
        description="The bots this account offers (every bot present in its channel, by default)",
    )
    concurrency: int = Field(default=3, ge=1, le=12)
    proxy: str | None = None
    enabled: bool = True
    user_agent: str | None = None

    @field_validator("id", mode="after")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    def model_post_init(self, __context: Any) -> None:
        if not self.id:
            self.id = f"{self.bots[0]}-{self.channel_id}"

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> AccountConfig:
        """Accept the original project's ``token_channels.json`` spelling (channel, pattern_type) as well, and the
        single ``bot`` of earlier configurations (the account then offers only that bot)."""
        data = dict(raw)
        if "bots" not in data and "bot" in data:
            data["bots"] = [data.pop("bot")]
        if "channel_id" not in data and "channel" in data:
            data["channel_id"] = data.pop("channel")
        if "guild_id" not in data and "guild" in data:
            data["guild_id"] = data.pop("guild")
        if "mode" not in data and "pattern_type" in data:
            data["mode"] = data.pop("pattern_type")
        return cls.model_validate(data)


class Account(BaseModel):
    """An account's live state as stored in the table."""

    id: str
    channel_id: str
    guild_id: str | None = None
    bots: list[Bot] = Field(default_factory=lambda: [Bot.MJ])
    mode: Mode = Mode.FAST
    concurrency: int = 3
    slots_used: int = 0
    enabled: bool = True
    health: Health = Health.OK
    health_reason: str | None = None
    health_changed_at: int | None = None
    session_id: str | None = None
    heartbeat_until: int = 0  # epoch ms: the relay holding this account's session vouches for it until then
    info: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)  # per bot: {"mj": {"remix": true, ...}}, from the bot
    updated_at: int = 0

    def serves(self, bot: Bot) -> bool:
        """One gateway session serves every bot present in the account's channel; the slots are shared."""
        return bot in self.bots

    @property
    def free_slots(self) -> int:
        return max(0, self.concurrency - self.slots_used)

    def connected_at(self, now: int) -> bool:
        """A relay holds (or can resume) the account's gateway session *and* is alive at ``now`` (epoch ms): it
        renews ``heartbeat_until`` with its lease, so a killed relay stops counting within the lease time. A stored
        session id alone proves nothing: the bot's answers to a job sent now would go unheard."""
        return bool(self.session_id) and self.heartbeat_until > now

    @property
    def connected(self) -> bool:
        return self.connected_at(now_ms())

    def live_health_at(self, now: int) -> Health:
        """The stored health, except that an ``ok`` account without a live relay is ``disconnected``."""
        if self.health == Health.OK and not self.connected_at(now):
            return Health.DISCONNECTED
        return self.health

    @property
    def live_health(self) -> Health:
        return self.live_health_at(now_ms())

    @property
    def usable(self) -> bool:
        return self.enabled and self.health == Health.OK and self.connected


class ApiToken(BaseModel):
    token_hash: str
    remaining: int
    used: int = 0
    active: int = 0  # its charged jobs now running or queued
    valid_until: int  # epoch seconds
    label: str | None = None
    created_at: int = 0
