"""Typed, immutable events for everything the Midjourney bot (and Discord around it) tells a client.

Every event carries a :class:`Correlation` block with the keys Discord gives for matching it to a job without looking
at the prompt (protocol notes §4): nonce, message id, interaction id, referenced message id, job hash. ``kind`` is the
discriminator; :data:`EVENT_ADAPTER` round-trips any event through JSON.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from mjapi.midjourney.actions import ButtonAction, JobAction, PanDirection
from mjapi.midjourney.custom_ids import CustomId, ModalId
from mjapi.midjourney.notices import AccountIssue, NoticeKind, Severity

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".m4v")

JobMode = Literal["fast", "relax", "turbo"]
BotKind = Literal["mj", "niji"]


class Correlation(BaseModel):
    """Matching keys of one gateway dispatch / message (DESIGN "Matching bot messages to jobs")."""

    model_config = _FROZEN

    source: str = Field(description="dispatch type (MESSAGE_CREATE, MESSAGE_UPDATE, ...) or REST")
    channel_id: str | None = None
    guild_id: str | None = None
    message_id: str | None = None
    nonce: str | None = None
    interaction_id: str | None = Field(None, description="interaction.id or interaction_metadata.id")
    interaction_name: str | None = None
    interaction_type: int | None = Field(
        None, description="2 = slash or message command, 3 = button (component), 5 = modal submit"
    )
    user_id: str | None = Field(None, description="user who invoked the job (interaction user or <@id> in content)")
    referenced_message_id: str | None = Field(
        None,
        description="message_reference.message_id / referenced_message.id / interaction_metadata.interacted_message_id"
        " (the message whose button made this job)",
    )
    job_hash: str | None = Field(None, description="Midjourney job UUID (custom_ids, attachment names, job links)")
    referenced_job_hash: str | None = Field(None, description="job UUID of referenced_message (the parent grid)")
    flags: int = 0
    author_id: str | None = None
    application_id: str | None = None
    bot: BotKind | None = Field(None, description="mj or niji, from application/author id")
    webhook_id: str | None = None

    @property
    def ephemeral(self) -> bool:
        """Discord message flag 64: only the invoking user sees it; component clicks need ``message_flags: 64``."""
        return bool(self.flags & 64)


class Image(BaseModel):
    """One attachment (or embed image); a video result's mp4 is one too (``content_type`` video/mp4)."""

    model_config = _FROZEN

    url: str
    proxy_url: str | None = None
    filename: str | None = None
    width: int | None = None
    height: int | None = None
    content_type: str | None = None
    size: int | None = None
    attachment_id: str | None = None
    job_hash: str | None = None

    @property
    def is_video(self) -> bool:
        """A video attachment: its content type says so, or (no type given) its file name does."""
        if self.content_type:
            return self.content_type.lower().startswith("video/")
        name = (self.filename or self.url.split("?", 1)[0]).lower()
        return name.endswith(_VIDEO_SUFFIXES)


class Button(BaseModel):
    """A message button with its custom_id parsed into a normalised action."""

    model_config = _FROZEN

    custom_id: str
    label: str | None = None
    emoji: str | None = None
    style: int | None = None
    disabled: bool = False
    row: int | None = Field(None, description="index of the action row it sits in (0-based)")
    action: ButtonAction
    parsed: CustomId


class SelectOption(BaseModel):
    model_config = _FROZEN

    label: str | None = None
    value: str
    description: str | None = None
    default: bool = False


class Select(BaseModel):
    """A select menu (e.g. ``MJ::Settings::VersionSelector``)."""

    model_config = _FROZEN

    custom_id: str
    placeholder: str | None = None
    options: tuple[SelectOption, ...] = ()

    @property
    def selected(self) -> tuple[str, ...]:
        return tuple(option.value for option in self.options if option.default)


class TextInput(BaseModel):
    """A text input of a modal (component type 4)."""

    model_config = _FROZEN

    custom_id: str
    label: str | None = None
    value: str | None = None
    required: bool | None = None


class _Event(BaseModel):
    model_config = _FROZEN

    kind: str  # narrowed to a Literal by every concrete event (the union's discriminator); declared here to come first
    correlation: Correlation


class _JobLine(_Event):
    """Fields common to messages whose content is the ``**prompt** - ... <@user> (status)`` job line.

    ``action`` is ``None`` for the waiting/progress message of a button's job worded like an imagine (today's bot:
    an ephemeral reply to the message the button was pressed on, with a Cancel Job button): the line does not say
    which button it was, the correlator finds the pressed one under ``correlation.referenced_message_id``."""

    action: JobAction | None
    prompt: str | None = None
    mode: JobMode | None = None
    stealth: bool = False
    variant: str | None = Field(None, description="subtle/strong/region, subtle/creative/2x/4x/legacy")
    direction: PanDirection | None = None
    index: int | None = Field(None, description="image number of 'Image #n' / 'image #n with' lines")
    remix: bool = False
    buttons: tuple[Button, ...] = Field(default=(), description="the message's buttons (noise left out)")

    @property
    def button_job(self) -> bool:
        """The job of a button pressed on another message (the line refers to it, or a button interaction made it)."""
        return self.correlation.referenced_message_id is not None or self.correlation.interaction_type == 3

    @property
    def cancel_button(self) -> Button | None:
        """The Cancel Job button of a running job's message (``MJ::CancelJob::ByJobid::<job uuid>``)."""
        return next((b for b in self.buttons if b.action is ButtonAction.CANCEL_JOB), None)


class JobStarted(_JobLine):
    """``(Waiting to start)``: the bot accepted the job (first message, carries the nonce)."""

    kind: Literal["job_started"] = "job_started"


class JobProgress(_JobLine):
    """``(NN%)`` progress with the preview image (MESSAGE_UPDATE of the first message)."""

    kind: Literal["job_progress"] = "job_progress"
    percent: int | None = None
    preview: Image | None = None


class JobPaused(_JobLine):
    """``(paused)``: relaxed jobs can be paused by Midjourney while they wait."""

    kind: Literal["job_paused"] = "job_paused"


class JobStopped(_JobLine):
    """``(Stopped)``: the job ended without a result (YK treats it as an error)."""

    kind: Literal["job_stopped"] = "job_stopped"


class JobResult(_JobLine):
    """A finished job: a grid (imagine, reroll, blend, variations, zoom, pan), one image (upscales) or a video
    (Animate: ``videos``, action ``video``); ``action`` says which, as the job line does."""

    kind: Literal["job_result"] = "job_result"
    images: tuple[Image, ...] = ()
    videos: tuple[Image, ...] = Field(default=(), description="video attachments (mp4) of an Animate result")


class DescribeResult(_Event):
    """``/describe`` output: four prompts, the described image and the 1..4 / all / retry buttons."""

    kind: Literal["describe_result"] = "describe_result"
    prompts: tuple[str, ...]
    image: Image | None = None
    buttons: tuple[Button, ...] = ()


class ShortenResult(_Event):
    """``/shorten`` output: the shortened prompts and their imagine buttons."""

    kind: Literal["shorten_result"] = "shorten_result"
    prompts: tuple[str, ...]
    description: str | None = None
    buttons: tuple[Button, ...] = ()


class AccountInfo(BaseModel):
    """Typed ``/info`` fields; every ``**Key**: value`` line is also kept verbatim in ``fields``."""

    model_config = _FROZEN

    subscription: str | None = None
    trial: bool = Field(False, description="a trial account (``None (Trial)``): no Job Mode line, minutes of fast time")
    job_mode: JobMode | None = None
    visibility: str | None = None
    fast_time_remaining_hours: float | None = None
    fast_time_remaining_minutes: float | None = Field(
        None, description="as the bot wrote it when it counts in minutes (trial: ``25.00 minutes``); hours are set too"
    )
    fast_time_total_hours: float | None = None
    fast_time_remaining_percent: float | None = None
    lifetime_images: int | None = None
    lifetime_hours: float | None = None
    relaxed_images: int | None = None
    relaxed_hours: float | None = None
    queued_jobs_fast: int | None = None
    queued_jobs_relax: int | None = None
    running_jobs: tuple[str, ...] = ()
    fields: dict[str, str] = Field(default_factory=dict)


class InfoResult(_Event):
    kind: Literal["info"] = "info"
    title: str | None = None
    info: AccountInfo


class ModeSwitched(_Event):
    """Reply to /fast, /relax or /turbo (content starts ``Done!``)."""

    kind: Literal["mode_switched"] = "mode_switched"
    mode: JobMode | None
    text: str


class RemixToggled(_Event):
    """Reply to ``/prefer remix``: "Remix mode turned on" / "... off"."""

    kind: Literal["remix_toggled"] = "remix_toggled"
    enabled: bool
    text: str


class SettingsResult(_Event):
    """The ephemeral ``/settings`` panel: buttons are on when green (style 3) and off when grey (style 2)."""

    kind: Literal["settings"] = "settings"
    buttons: tuple[Button, ...] = ()
    selects: tuple[Select, ...] = ()
    enabled: tuple[str, ...] = Field(default=(), description="labels of the buttons that are on")
    remix: bool | None = None
    mode: JobMode | None = None
    high_variability: bool | None = None
    raw_style: bool | None = None


class SeedResult(_Event):
    """The DM answering an ✉️ reaction: ``**Job ID**: <uuid>`` / ``**seed** <n>``."""

    kind: Literal["seed"] = "seed"
    job_hash: str
    seed: int


class Notice(_Event):
    """An error or notice embed (or ``Failed...`` content) from the bot."""

    kind: Literal["notice"] = "notice"
    notice: NoticeKind
    severity: Severity
    fails_job: bool
    account_issue: AccountIssue | None = None
    title: str | None = None
    description: str | None = None
    color: int | None = None
    footer: str | None = None
    prompt: str | None = Field(None, description="prompt from a footer starting '/imagine '")
    buttons: tuple[Button, ...] = ()


class InteractionCreated(_Event):
    kind: Literal["interaction_created"] = "interaction_created"
    id: str | None = None
    nonce: str | None = None


class InteractionSucceeded(_Event):
    """``id`` becomes ``interaction_metadata.id`` of the bot's reply and the modal-submit ``data.id``."""

    kind: Literal["interaction_succeeded"] = "interaction_succeeded"
    id: str | None = None
    nonce: str | None = None


class InteractionFailed(_Event):
    """No bot answer will follow; ``reason_code`` 1 = unknown, 2 = timeout (Spacebar InteractionFailureReason)."""

    kind: Literal["interaction_failed"] = "interaction_failed"
    id: str | None = None
    nonce: str | None = None
    reason_code: int | None = None


class ModalCreated(_Event):
    """INTERACTION_MODAL_CREATE: a prompt-edit modal (remix, pan, custom zoom, imagine, describe)."""

    kind: Literal["modal"] = "modal"
    id: str | None = None
    nonce: str | None = None
    custom_id: str | None = None
    title: str | None = None
    modal: ModalId
    text_inputs: tuple[TextInput, ...] = ()
    components: tuple[JsonValue, ...] = ()


class IframeModalCreated(_Event):
    """INTERACTION_IFRAME_MODAL_CREATE: the Vary (Region) editor or a captcha page."""

    kind: Literal["iframe_modal"] = "iframe_modal"
    id: str | None = None
    nonce: str | None = None
    custom_id: str | None = None
    title: str | None = None
    iframe_path: str | None = None
    modal_size: int | None = None
    modal: ModalId
    purpose: Literal["inpaint", "captcha", "unknown"] = "unknown"


class Rated(_Event):
    """The bot's reply to a ❤️/rating button: ``You have successfully rated [this job](<link>) with 😍``. Feedback on
    a finished job, never a result; ``correlation.job_hash`` is the rated job's uuid (from the link)."""

    kind: Literal["rated"] = "rated"
    job_hash: str | None = None
    text: str


class Deferred(_Event):
    """A deferred reply's loading message ("… is thinking", flags 128): empty, with the interaction's nonce. The bot
    later edits the same message (MESSAGE_UPDATE, no nonce) into the real answer, so its id is what to remember."""

    kind: Literal["deferred"] = "deferred"
    command: str | None = Field(None, description="the interaction's name, e.g. info, settings, prefer remix")


class MessageDeleted(_Event):
    """MESSAGE_DELETE: Midjourney deletes the progress message when the result is posted."""

    kind: Literal["message_deleted"] = "message_deleted"
    id: str | None = None


class Unrecognized(_Event):
    """Anything the parser does not understand; never an exception. ``reason`` says why."""

    kind: Literal["unrecognized"] = "unrecognized"
    reason: str
    content: str | None = None


Event = Annotated[
    JobStarted
    | JobProgress
    | JobPaused
    | JobStopped
    | JobResult
    | DescribeResult
    | ShortenResult
    | InfoResult
    | ModeSwitched
    | RemixToggled
    | SettingsResult
    | SeedResult
    | Notice
    | InteractionCreated
    | InteractionSucceeded
    | InteractionFailed
    | ModalCreated
    | IframeModalCreated
    | Deferred
    | Rated
    | MessageDeleted
    | Unrecognized,
    Field(discriminator="kind"),
]

#: Validates/serialises any event, e.g. ``EVENT_ADAPTER.validate_json(text)``.
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)
