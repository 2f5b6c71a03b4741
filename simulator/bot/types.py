"""Types the bot's modules share: an accepted interaction (`Ctx`), open modals and iframes, job requests, faults, and
`BotServices`, what command, button and modal handlers may ask of the engine.

This module imports no other bot module, so the engine and the handlers both depend on it and not on each other.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

from mjapi.midjourney.actions import ModalKind
from simulator import constants as C
from simulator.cdn import Cdn
from simulator.commands import BotApp, CommandDef
from simulator.config import SimConfig
from simulator.images import ImageSpec
from simulator.state import Account, AttachmentRecord, Channel, Job, MessageRecord, Origin, Upload
from simulator.world import World

JSON = dict[str, Any]


@dataclass
class BotFaults:
    offline: bool = False
    drop_interactions: int = 0

    def to_json(self) -> JSON:
        return {"offline": self.offline, "drop_interactions": self.drop_interactions}


@dataclass
class ResolvedAttachment:
    """An attachment named in `data.attachments` (uploaded earlier or sent as a multipart file)."""

    id: str
    filename: str
    data: bytes
    upload: Upload | None = None


@dataclass
class PendingModal:
    """A modal the bot opened; its id is the interaction id of the click that opened it. What it is (remix, pan...)
    and the values it names (job hash, image index, direction, strength) are read back from its custom_id."""

    id: str
    custom_id: str
    account: Account
    app: BotApp
    channel: Channel
    origin: Origin
    message: MessageRecord | None
    job: Job | None
    inputs: list[str]
    created: float = field(default_factory=time.time)
    pressed: str | None = None  # the custom_id of the button that opened it (turned blue when its job starts)


@dataclass
class PendingIframe:
    token: str
    kind: str  # "inpaint" | "captcha"
    account: Account
    app: BotApp
    channel: Channel
    origin: Origin
    job: Job | None
    message: MessageRecord | None
    created: float = field(default_factory=time.time)
    used: bool = False
    pressed: str | None = None


@dataclass
class Ctx:
    """One accepted interaction."""

    id: str
    type: int
    account: Account
    app: BotApp
    channel: Channel
    session_id: str
    nonce: str | None
    data: JSON
    origin: Origin
    name: str = ""
    options: JSON = field(default_factory=dict)
    attachments: dict[str, ResolvedAttachment] = field(default_factory=dict)
    message: MessageRecord | None = None
    modal: PendingModal | None = None
    values: dict[str, str] = field(default_factory=dict)
    command: CommandDef | None = None
    acked: bool = False
    nonce_used: bool = False

    @property
    def custom_id(self) -> str:
        return str(self.data.get("custom_id", ""))

    @property
    def bot_key(self) -> str:
        return self.app.key


@dataclass
class JobRequest:
    kind: str
    label: str  # in-progress label, e.g. "Upscaling (Subtle) by"; "" for imagine-like jobs
    label_done: str
    prompt: str
    words: frozenset[str]
    version: str
    ar: tuple[int, int]
    seed: int | None = None
    mode_override: str | None = None
    parent: Job | None = None
    parent_message: MessageRecord | None = None
    index: int = 0
    image_kind: str = "grid"
    size: str = "grid"  # a key of simulator.images.SIZE_RULES
    quadrant: int = 0
    zoom: float = 1.0
    pan: str = ""
    palette_seed: int | None = None
    duration_factor: float = 1.0
    batch: bool = False
    exact_size: tuple[int, int] | None = None  # instead of `size`: the source image's size (videos)
    frames: int = 0  # videos
    motion: str = ""  # videos: "high" | "low"


class BotServices(Protocol):
    """The engine as the handlers see it: the world, messages, modals, account gates and jobs."""

    world: World
    cdn: Cdn
    config: SimConfig
    iframes: OrderedDict[str, PendingIframe]

    async def sleep(self, sim_seconds: float) -> None: ...

    def ack(self, ctx: Ctx) -> None: ...

    async def image_attachment(
        self, channel_id: str, spec: ImageSpec, filename: str, *, ephemeral: bool = False
    ) -> AttachmentRecord: ...

    def post(
        self,
        app: BotApp,
        channel: Channel,
        *,
        content: str = "",
        embeds: list[JSON] | None = None,
        components: list[JSON] | None = None,
        attachments: list[AttachmentRecord] | None = None,
        flags: int = 0,
        msg_type: int | None = None,
        ctx: Ctx | None = None,
        origin: Origin | None = None,
        reference: MessageRecord | None = None,
        job: Job | None = None,
        kind: str = "bot",
        ephemeral_user: str | None = None,
        mention: Account | None = None,
    ) -> MessageRecord: ...

    def update(self, record: MessageRecord, **fields: Any) -> None: ...

    def notice(
        self,
        ctx: Ctx,
        title: str,
        description: str,
        *,
        color: int = C.COLOR_ERROR,
        components: list[JSON] | None = None,
        footer: str | None = None,
        ephemeral: bool = True,
    ) -> MessageRecord: ...

    def reply(
        self, ctx: Ctx, content: str, *, ephemeral: bool = True, components: list[JSON] | None = None
    ) -> MessageRecord: ...

    def thinking(self, ctx: Ctx, *, ephemeral: bool, kind: str = "deferred") -> MessageRecord: ...

    def fill(self, record: MessageRecord, **fields: Any) -> None: ...

    def open_modal(
        self,
        ctx: Ctx,
        kind: ModalKind,
        ids: dict[str, str | int | bool],
        *,
        title: str,
        label: str,
        value: str,
        job: Job | None = None,
    ) -> PendingModal: ...

    def open_iframe(self, ctx: Ctx, *, kind: str, title: str, job: Job | None, path: str) -> PendingIframe: ...

    def gate(self, ctx: Ctx, *, jobs: bool = True) -> bool: ...

    def new_job(
        self, ctx_origin: Origin, channel: Channel, app: BotApp, req: JobRequest, mode: str, nonce: str | None
    ) -> Job: ...

    async def submit(self, ctx: Ctx, requests: list[JobRequest], *, footer_prompt: str | None = None) -> list[Job]: ...

    def content(self, job: Job, status: str, *, done: bool = False) -> str: ...

    def mode_text(self, job: Job) -> str: ...

    async def post_result(
        self, job: Job, progress: MessageRecord | None, *, ctx: Ctx | None = None
    ) -> MessageRecord: ...

    def result_rows(self, job: Job) -> list[JSON]: ...

    def filename(self, job: Job) -> str: ...

    def cancel_job(self, job: Job) -> bool: ...

    def press(self, record: MessageRecord | None, custom_id: str | None) -> None: ...
