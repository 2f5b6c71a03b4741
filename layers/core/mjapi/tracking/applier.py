"""Apply one parsed bot event to the job (and account) it concerns. Every write is conditional, so applying an event
twice (gateway replay after RESUME, duplicated dispatch, catch-up from REST) changes nothing the second time."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mjapi.clock import now_ms
from mjapi.midjourney.actions import NOISE_ACTIONS, ButtonAction, JobAction, ModalKind
from mjapi.midjourney.custom_ids import parse_custom_id
from mjapi.midjourney.models import (
    AccountInfo,
    Deferred,
    DescribeResult,
    Event,
    IframeModalCreated,
    InfoResult,
    InteractionCreated,
    InteractionFailed,
    InteractionSucceeded,
    JobPaused,
    JobProgress,
    JobResult,
    JobStarted,
    JobStopped,
    MessageDeleted,
    ModalCreated,
    ModeSwitched,
    Notice,
    Rated,
    RemixToggled,
    SeedResult,
    SettingsResult,
    ShortenResult,
    Unrecognized,
)
from mjapi.midjourney.models import Button as EventButton
from mjapi.midjourney.notices import AccountIssue, NoticeKind
from mjapi.models import ACTIVE_STATUSES, Button, ErrorInfo, Health, Job, JobKind, JobStatus, Mode
from mjapi.service.follow_ups import child_job
from mjapi.store import keys
from mjapi.store.accounts import get_account, set_health, set_info, set_mode, set_settings
from mjapi.store.jobs import JobStore
from mjapi.store.table import ConditionFailed
from mjapi.tracking.correlate import Correlator
from mjapi.tracking.image_copy import ImageCopier, ImageCopyFailed

logger = logging.getLogger(__name__)

_HEALTH_FOR_ISSUE = {
    AccountIssue.CAPTCHA: Health.CAPTCHA,
    AccountIssue.PENDING_MOD: Health.PENDING_MOD,
    AccountIssue.BANNED: Health.BANNED,
    AccountIssue.SUBSCRIPTION: Health.SUBSCRIPTION,
    AccountIssue.TOS: Health.PENDING_MOD,
}
_WAITABLE = frozenset({JobStatus.SUBMITTED, JobStatus.WAITING})


@dataclass(frozen=True)
class FormReply:
    """A form the bot opened for a job, for the relay to submit: a modal (prompt) or the region editor (mask)."""

    job_id: str
    editor: bool  # True: the Vary (Region) editor (activity host); False: a modal (interaction type 5)
    custom_id: str  # the modal's custom_id, or the editor's ``MJ::iframe::<token>``
    interaction_id: str | None  # the modal's id: ``data.id`` of the modal submit
    text_input_id: str | None
    value: str  # the prompt to submit
    application_id: str | None


@dataclass
class Outcome:
    """What applying an event did, for the relay: which job, and whether a slot was freed on which account."""

    job_id: str | None = None
    finished: JobStatus | None = None
    released_account: str | None = None
    follow_ups: list[Job] = field(default_factory=list)  # jobs to submit next (auto-upscale, switch to relax)
    forms: list[FormReply] = field(default_factory=list)  # forms to fill in for a job (remix, custom zoom, region)


def button_rows(buttons: Sequence[EventButton]) -> list[list[Button]]:
    """The buttons a client can press, in the bot's rows (every layout: v5.2, v6, v7 with Animate...). Noise (❤️
    bookmark, rating), disabled buttons, Cancel Job (it belongs to the running job, not to its result) and link
    buttons (never parsed as buttons) stay out. Without row numbers: rows of five, V1-V4 on a row of their own."""
    useful = [
        b
        for b in buttons
        if b.action not in NOISE_ACTIONS and b.action is not ButtonAction.CANCEL_JOB and not b.disabled
    ]
    if useful and all(b.row is not None for b in useful):
        by_row: dict[int, list[Button]] = {}
        for button in useful:
            by_row.setdefault(button.row or 0, []).append(_stored(button))
        return [by_row[row] for row in sorted(by_row)]
    rows: list[list[Button]] = []
    for button in useful:
        if not rows or len(rows[-1]) == 5 or (rows[-1] and _row_break(rows[-1][-1], button)):
            rows.append([])
        rows[-1].append(_stored(button))
    return rows


def _stored(button: EventButton) -> Button:
    return Button(label=button.label or "", custom_id=button.custom_id, emoji=button.emoji, style=button.style)


def _row_break(previous: Button, current: EventButton) -> bool:
    """Start a new row where the grid's V buttons begin after the U/reroll row."""
    return current.action is ButtonAction.VARIATION and parse_custom_id(previous.custom_id).action is not (
        ButtonAction.VARIATION
    )


class EventApplier:
    def __init__(
        self,
        jobs: JobStore,
        copier: ImageCopier,
        *,
        copy_previews: bool = True,
        fast_fallback_to_relax: bool = True,
        preview_interval: float = 10.0,
        new_job_id: Callable[[], str] | None = None,
    ) -> None:
        self.jobs = jobs
        self.table = jobs.table
        self.correlator = Correlator(jobs)
        self.copier = copier
        self.copy_previews = copy_previews
        self.fast_fallback_to_relax = fast_fallback_to_relax
        self.preview_interval = preview_interval
        self._previews: OrderedDict[str, float] = OrderedDict()
        self._previews_lock = threading.Lock()
        self._new_job_id = new_job_id

        self._handlers: dict[type[Any], Callable[[str, Any], Outcome]] = {
            InteractionSucceeded: self._interaction_ok,
            InteractionCreated: _nothing,  # INTERACTION_SUCCESS carries the same id and nonce
            InteractionFailed: self._interaction_failed,
            JobStarted: self._started,
            JobProgress: self._progress,
            JobPaused: self._bind_only,
            JobStopped: self._stopped,
            JobResult: self._result,
            DescribeResult: self._prompts_result,
            ShortenResult: self._prompts_result,
            InfoResult: self._info,
            ModeSwitched: self._mode_switched,
            RemixToggled: self._settings,
            SettingsResult: self._settings,
            Notice: self._notice,
            SeedResult: self._seed,
            ModalCreated: self._modal,
            IframeModalCreated: self._modal,
            Deferred: self._deferred,
            Rated: _nothing,  # the reply to a ❤️: feedback on a finished job, never a result
            MessageDeleted: _nothing,
            Unrecognized: self._bind_only,
        }

    # -- entry point ----------------------------------------------------------------------------------------------

    def apply(self, account_id: str, event: Event) -> Outcome:
        handler = self._handlers.get(type(event), _nothing)
        try:
            return handler(account_id, event)
        except ConditionFailed:
            return Outcome()  # a concurrent writer got there first: nothing left to do

    def ignores(self, event: Event) -> bool:
        """True for events that change nothing (an interaction's echo, a deleted message, a ❤️ reply): the relay
        need not schedule them at all. An unrecognised message matters only when its nonce may bind it to a job."""
        if isinstance(event, Unrecognized):
            return not event.correlation.nonce
        return self._handlers.get(type(event), _nothing) is _nothing

    def find_job(
        self,
        account_id: str,
        event: Event,
        *,
        action: JobAction | None = None,
        index: int | None = None,
        prompt: str | None = None,
        unbound_only: bool = False,
    ) -> Job | None:
        """The job an event is about: its direct keys, else its Midjourney job uuid (learnt from the Cancel Job button
        or the preview), else the pressed button under the referenced parent, else (last resort, never when
        ambiguous) the prompt: a pan result's rewritten prompt never needs to match."""
        corr = event.correlation
        job = self.correlator.by_keys(corr) or self.correlator.by_hash(corr)
        if job is None and corr.referenced_message_id:
            job = self.correlator.child_of_reference(corr, action, index)
        if job is None and prompt:
            job = self.correlator.by_prompt(account_id, prompt, unbound_only=unbound_only)
        return job

    # -- interactions --------------------------------------------------------------------------------------------

    def _interaction_ok(self, _account_id: str, event: InteractionSucceeded) -> Outcome:
        """Remember the interaction id: it comes back as ``interaction_metadata.id`` on the bot's replies. Only the
        reference is written; the job records the id with its first message (``_started``), which carries it too."""
        job_id = self.correlator.job_id_by_keys(event.correlation, nonce=event.nonce) if event.nonce else None
        if job_id is None or not event.id:
            return Outcome()
        self.correlator.remember("interaction", event.id, job_id)
        return Outcome(job_id=job_id)

    def _interaction_failed(self, _account_id: str, event: InteractionFailed) -> Outcome:
        job = self.correlator.by_keys(event.correlation, nonce=event.nonce)
        if job is None:
            return Outcome()
        reason = "timed out" if event.reason_code == 2 else "failed"
        return self._fail(
            job, "interaction_failed", f"Discord reports the interaction {reason}; no job was started.", refund=True
        )

    # -- lifecycle ------------------------------------------------------------------------------------------------

    def _bind(self, job: Job, message_id: str | None, extra: dict[str, Any] | None = None) -> None:
        """Remember the bot's message for this job and move it to ``waiting`` if it was only submitted (the message
        reference goes with the job's write)."""
        fields: dict[str, Any] = dict(extra or {})
        if message_id and job.message_id != message_id and job.kind not in (JobKind.INFO, JobKind.SWITCH):
            fields["message_id"] = message_id
        refs = self.correlator.new_refs(job.id, ("message", message_id))
        if job.status == JobStatus.SUBMITTED:
            fields["status"] = JobStatus.WAITING.value
        if not fields or job.is_terminal:
            if refs:
                self.jobs.put_refs(refs, job.id)
        else:
            self.jobs.set_fields(job.id, fields, allowed=ACTIVE_STATUSES, refs=refs)
        self.correlator.learned(refs, job.id)

    def _job_for_line(self, account_id: str, event: JobStarted | JobProgress | JobPaused | JobStopped) -> Job | None:
        return self.find_job(
            account_id, event, action=event.action, index=event.index, prompt=event.prompt, unbound_only=True
        )

    def _stopped(self, account_id: str, event: JobStopped) -> Outcome:
        """ "(Stopped)": the caller's cancel (``options.cancel_requested``, set before the bot's Cancel Job command was
        sent) ends the job CANCELLED with its use given back; any other stop is a failure."""
        job = self._job_for_line(account_id, event)
        if job is None:
            return Outcome()
        if not job.options.get("cancel_requested"):
            return self._fail(job, "stopped", "Midjourney stopped the job.")
        finished = self.jobs.finish(job, JobStatus.CANCELLED, refund=True)
        if finished is None:
            return Outcome(job_id=job.id)
        return Outcome(
            job_id=job.id, finished=JobStatus.CANCELLED, released_account=job.account_id if job.holds_slot else None
        )

    def _bind_only(self, account_id: str, event: JobPaused | Unrecognized) -> Outcome:
        corr = event.correlation
        if isinstance(event, Unrecognized):
            # A deferred reply (e.g. "thinking" before /info) still binds its message to the job via the nonce.
            job = self.correlator.by_keys(corr) if corr.nonce else None
        else:
            job = self._job_for_line(account_id, event)
        if job is None:
            return Outcome()
        self._bind(job, corr.message_id)
        return Outcome(job_id=job.id)

    def _deferred(self, _account_id: str, event: Deferred) -> Outcome:
        """A deferred reply's loading message: learn its id from the nonce, because the answer arrives as an edit of
        that message without one."""
        job = self.correlator.by_keys(event.correlation)
        if job is None:
            return Outcome()
        self._bind(job, event.correlation.message_id)
        return Outcome(job_id=job.id)

    def _started(self, account_id: str, event: JobStarted) -> Outcome:
        """ "Waiting to start": bind the bot's message to the job. Keyed jobs are updated without being read."""
        corr = event.correlation
        job_id = self.correlator.job_id_by_keys(corr) or self.correlator.job_id_by_hash(corr)
        if job_id is None:
            job = self._job_for_line(account_id, event)
            if job is None:
                return Outcome()
            job_id = job.id
        fields: dict[str, Any] = {"final_prompt": event.prompt} if event.prompt else {}
        if corr.message_id:
            fields["message_id"] = corr.message_id
        if corr.interaction_id:
            fields["interaction_id"] = corr.interaction_id
        fields.update(self._job_identity(event))
        refs = self._refs(job_id, event)
        waiting = {**fields, "status": JobStatus.WAITING.value}
        if not self.jobs.set_fields(job_id, waiting, allowed=(JobStatus.SUBMITTED,), refs=refs) and fields:
            self.jobs.set_fields(job_id, fields, allowed=ACTIVE_STATUSES)  # already running (events reordered)
        self.correlator.learned(refs, job_id)
        return Outcome(job_id=job_id)

    def _progress(self, account_id: str, event: JobProgress) -> Outcome:
        """The hot path (several updates per job): no read of the job, one conditional write. A late or replayed
        update (lower percent, job already finished) simply fails its condition."""
        corr = event.correlation
        job_id = self.correlator.job_id_by_keys(corr) or self.correlator.job_id_by_hash(corr)
        if job_id is None:
            found = self._job_for_line(account_id, event)
            job_id = found.id if found else None
        if job_id is None or event.percent is None:
            return Outcome(job_id=job_id)
        fields: dict[str, Any] = {}
        if corr.message_id:
            fields["message_id"] = corr.message_id
        fields.update(self._job_identity(event))
        if event.preview is not None and self.copy_previews and self._preview_due(job_id):
            try:
                fields["preview_url"] = self.copier.copy(event.preview, prefix="previews").url
            except ImageCopyFailed as exc:
                logger.info("preview of job %s not copied: %s", job_id, exc)
        refs = self._refs(job_id, event)
        self.jobs.record_progress(job_id, max(1, min(99, event.percent)), fields, refs=refs)
        self.correlator.learned(refs, job_id)
        return Outcome(job_id=job_id)

    def _refs(self, job_id: str, event: JobStarted | JobProgress) -> list[tuple[str, str]]:
        """The references a running job's message teaches, not yet recorded: its message id, and Midjourney's uuid
        for the job (so the result, a new message, finds the job by it). Written with the job's own update."""
        corr = event.correlation
        return self.correlator.new_refs(job_id, ("message", corr.message_id), ("hash", corr.job_hash))

    @staticmethod
    def _job_identity(event: JobStarted | JobProgress) -> dict[str, Any]:
        """What a running job's message says about it: Midjourney's uuid for the job (the Cancel Job button of a button
        job's ephemeral message is the only place it shows before the result; else the preview's name), and the
        Cancel Job button with its message's flags, which cancelling clicks."""
        corr = event.correlation
        fields: dict[str, Any] = {}
        if corr.job_hash:
            fields["message_hash"] = corr.job_hash
        cancel = event.cancel_button
        if cancel is not None:
            fields["cancel_custom_id"] = cancel.custom_id
            fields["progress_flags"] = corr.flags
        return fields

    def _preview_due(self, job_id: str) -> bool:
        """The first preview of a job is copied at once (a caller sees an image as soon as the bot shows one), later
        ones at most every ``preview_interval`` seconds: each copy is a download and an upload, and nobody needs every
        intermediate image of a job that lasts a minute. The result replaces the preview anyway."""
        now = time.monotonic()
        with self._previews_lock:  # one account's events are applied by several threads at once
            last = self._previews.get(job_id)
            if last is not None and now - last < self.preview_interval:
                return False
            self._previews[job_id] = now
            self._previews.move_to_end(job_id)
            while len(self._previews) > 10_000:
                self._previews.popitem(last=False)
        return True

    def _result(self, account_id: str, event: JobResult) -> Outcome:
        corr = event.correlation
        job = self.find_job(account_id, event, action=event.action, index=event.index, prompt=event.prompt)
        if job is None:
            return Outcome()
        if job.is_terminal:
            self.correlator.remember("message", corr.message_id, job.id)
            self._restyled(job, event)
            return Outcome(job_id=job.id)
        try:
            images = self.copier.copy_all(event.images)
            videos = [self.copier.copy_video(video) for video in event.videos]
        except ImageCopyFailed as exc:
            return self._fail(job, "image_unavailable", str(exc))
        if not images and not videos:
            return self._fail(job, "no_image", "Midjourney posted a result without an image.")
        message_hash = corr.job_hash or next((m.job_hash for m in (*event.images, *event.videos) if m.job_hash), None)
        fields: dict[str, Any] = {
            "images": [i.model_dump() for i in images],
            "videos": [v.model_dump() for v in videos],
            "buttons": [[b.model_dump() for b in row] for row in button_rows(event.buttons)],
            "result_message_id": corr.message_id,
            "message_hash": message_hash,
            "message_flags": corr.flags,
            "final_prompt": event.prompt or job.final_prompt or job.prompt,
            "progress": 100,
            "preview_url": None,
        }
        refs = self.correlator.new_refs(job.id, ("message", corr.message_id), ("hash", message_hash))
        finished = self.jobs.finish(job, JobStatus.SUCCEEDED, fields, refs=refs)
        outcome = Outcome(job_id=job.id)
        if finished is None:
            self.correlator.remember("message", corr.message_id, job.id)  # finished by another writer meanwhile
        else:
            self.correlator.learned(refs, job.id)
            outcome.finished = JobStatus.SUCCEEDED
            outcome.released_account = job.account_id if job.holds_slot else None
            follow = self._auto_upscale(finished)
            if follow:
                outcome.follow_ups.append(follow)
        return outcome

    def _restyled(self, job: Job, event: JobResult) -> None:
        """An edit of a finished job's result message: after a click the bot restyles the pressed buttons (style 1),
        sometimes several times. The job is not finished again; its buttons follow the message's latest state, except
        that an edit without buttons (a partial update) never takes the stored ones away."""
        if job.status != JobStatus.SUCCEEDED or event.correlation.message_id != job.result_message_id:
            return
        rows = button_rows(event.buttons)
        if not rows or rows == job.buttons:
            return
        self.jobs.set_fields(
            job.id, {"buttons": [[b.model_dump() for b in row] for row in rows]}, allowed=(JobStatus.SUCCEEDED,)
        )

    def _auto_upscale(self, job: Job) -> Job | None:
        """``upscale=true`` on imagine: press U1 for the caller once the grid exists (no extra charge)."""
        if not job.options.get("auto_upscale") or job.kind != JobKind.IMAGINE or self._new_job_id is None:
            return None
        u1 = next(
            (
                b
                for row in job.buttons
                for b in row
                if (parsed := parse_custom_id(b.custom_id)).action is ButtonAction.UPSAMPLE and parsed.index == 1
            ),
            None,
        )
        if u1 is None or not job.result_message_id:
            return None
        return child_job(job, u1.custom_id, job_id=self._new_job_id())

    def _prompts_result(self, _account_id: str, event: DescribeResult | ShortenResult) -> Outcome:
        corr = event.correlation
        job = self.correlator.by_keys(corr)
        if job is None or job.is_terminal:
            return Outcome(job_id=job.id if job else None)
        if not event.prompts:
            self._bind(job, corr.message_id)
            return Outcome(job_id=job.id)
        fields: dict[str, Any] = {
            "prompts": list(event.prompts),
            "buttons": [[b.model_dump() for b in row] for row in button_rows(event.buttons)],
            "result_message_id": corr.message_id,
            "message_flags": corr.flags,
            "progress": 100,
        }
        if isinstance(event, DescribeResult) and event.image is not None and not job.upload_url:
            try:
                fields["upload_url"] = self.copier.copy(event.image, prefix="uploads").url
            except ImageCopyFailed as exc:
                logger.info("describe image of job %s not copied: %s", job.id, exc)
        refs = self.correlator.new_refs(job.id, ("message", corr.message_id))
        finished = self.jobs.finish(job, JobStatus.SUCCEEDED, fields, refs=refs)
        if finished is None:
            self.correlator.remember("message", corr.message_id, job.id)  # finished by another writer meanwhile
        else:
            self.correlator.learned(refs, job.id)
        return Outcome(
            job_id=job.id,
            finished=JobStatus.SUCCEEDED if finished else None,
            released_account=job.account_id if finished and job.holds_slot else None,
        )

    # -- account commands -----------------------------------------------------------------------------------------

    def _info(self, account_id: str, event: InfoResult) -> Outcome:
        info = _info_dict(event.info)
        set_info(self.table, account_id, info)
        if event.info.job_mode:
            set_mode(self.table, account_id, _mode(event.info.job_mode).value)
        job = self.correlator.by_keys(event.correlation)
        if job is None or job.is_terminal:
            return Outcome(job_id=job.id if job else None)
        finished = self.jobs.finish(job, JobStatus.SUCCEEDED, {"info": info, "progress": 100})
        return Outcome(job_id=job.id, finished=JobStatus.SUCCEEDED if finished else None)

    def _mode_switched(self, account_id: str, event: ModeSwitched) -> Outcome:
        if event.mode:
            set_mode(self.table, account_id, _mode(event.mode).value)
        job = self.correlator.by_keys(event.correlation)
        if job is None or job.is_terminal:
            return Outcome(job_id=job.id if job else None)
        info = {"mode": _mode(event.mode).value if event.mode else None, "reply": event.text}
        finished = self.jobs.finish(job, JobStatus.SUCCEEDED, {"info": info, "progress": 100})
        return Outcome(job_id=job.id, finished=JobStatus.SUCCEEDED if finished else None)

    def _settings(self, account_id: str, event: SettingsResult | RemixToggled) -> Outcome:
        """/settings or /prefer remix answered: remember the account's settings for that bot, finish the job."""
        if isinstance(event, RemixToggled):
            found: dict[str, Any] = {"remix": event.enabled}
        else:
            found = {"remix": event.remix, "high_variability": event.high_variability, "raw_style": event.raw_style}
            found = {k: v for k, v in found.items() if v is not None} | {"enabled": list(event.enabled)}
            if event.mode:
                set_mode(self.table, account_id, _mode(event.mode).value)
        bot = event.correlation.bot or "mj"
        set_settings(self.table, account_id, bot, found)
        job = self.correlator.by_keys(event.correlation)
        if job is None or job.is_terminal:
            return Outcome(job_id=job.id if job else None)
        finished = self.jobs.finish(job, JobStatus.SUCCEEDED, {"info": found, "progress": 100})
        return Outcome(job_id=job.id, finished=JobStatus.SUCCEEDED if finished else None)

    def _seed(self, _account_id: str, event: SeedResult) -> Outcome:
        job_id = self.jobs.resolve_ref("hash", event.job_hash)
        if not job_id:
            return Outcome()
        job = self.jobs.get(job_id)
        if job is None:
            return Outcome()
        self.jobs.update_fields(job.id, {"info": {**job.info, "seed": event.seed}})
        return Outcome(job_id=job.id)

    def _modal(self, account_id: str, event: ModalCreated | IframeModalCreated) -> Outcome:
        """The bot answered a button with a form (remix prompt, custom zoom, the Vary Region editor) or a captcha page.
        A form is filled in with the caller's prompt (or mask), else with what the bot prefilled, else with the job's
        prompt, and handed to the relay to submit: a job never stalls on a form."""
        job = self.correlator.by_keys(event.correlation, nonce=event.nonce)
        if isinstance(event, IframeModalCreated) and event.purpose == "captcha":
            set_health(self.table, account_id, Health.CAPTCHA, event.title or "captcha")
            return self._fail(job, "account_captcha", "The Discord account must solve a captcha.") if job else Outcome()
        if job is None or job.is_terminal:
            return Outcome(job_id=job.id if job else None)
        asked = str(job.options.get("prompt") or "").strip()
        if isinstance(event, IframeModalCreated):
            if not job.options.get("mask_key"):
                return self._fail(
                    job, "mask_required", "Vary (Region) needs a mask of the area to repaint.", refund=True
                )
            reply = FormReply(
                job_id=job.id,
                editor=True,
                custom_id=event.custom_id or event.modal.raw,
                interaction_id=event.id,
                text_input_id=None,
                value=asked,
                application_id=event.correlation.application_id,
            )
            return Outcome(job_id=job.id, forms=[reply])
        text_input = event.text_inputs[0] if event.text_inputs else None
        value = asked or (text_input.value if text_input and text_input.value else "") or job.prompt
        if event.modal.kind is ModalKind.CUSTOM_ZOOM and "--zoom" not in value:
            value = f"{value} --zoom 2"  # the form asks for a zoom factor; 2 is what "Zoom Out 2x" does
        reply = FormReply(
            job_id=job.id,
            editor=False,
            custom_id=event.custom_id or event.modal.raw,
            interaction_id=event.id,
            text_input_id=(text_input.custom_id if text_input else None) or event.modal.text_input_id,
            value=value.strip(),
            application_id=event.correlation.application_id,
        )
        return Outcome(job_id=job.id, forms=[reply])

    # -- notices --------------------------------------------------------------------------------------------------

    def _notice(self, account_id: str, event: Notice) -> Outcome:
        job = self.find_job(account_id, event, prompt=event.prompt)
        if event.account_issue is AccountIssue.FAST_TIME_EXHAUSTED:
            return self._fast_exhausted(account_id, job)
        if event.account_issue is not None:
            return self._account_lost(account_id, event, job)
        if job is None or job.is_terminal:
            return Outcome(job_id=job.id if job else None)
        if event.notice is NoticeKind.JOB_QUEUED:
            self._bind(job, None, {"notice": event.notice.value})
            return Outcome(job_id=job.id)
        if not event.fails_job:
            return Outcome(job_id=job.id)
        message = event.description or event.title or "Midjourney could not run the job."
        return self._fail(job, event.notice.value, message.strip()[:1000])

    def _account_lost(self, account_id: str, event: Notice, job: Job | None) -> Outcome:
        """Captcha, moderation, ban, lapsed subscription: the account leaves the rotation until an operator acts.
        Its running jobs fail with a clear error; jobs pinned to it (buttons on its messages) fail too, while pool
        jobs simply wait for the other accounts."""
        assert event.account_issue is not None
        health = _HEALTH_FOR_ISSUE.get(event.account_issue, Health.DISABLED)
        reason = (event.title or event.notice.value).strip()
        set_health(self.table, account_id, health, reason)
        message = f"The Discord account needs attention ({reason}); the job was stopped."
        outcome = Outcome(job_id=job.id if job else None)
        for active in self.jobs.active(account_id):
            self._fail(active, f"account_{health.value}", message)
        for queued in self.jobs.queued(keys.account_queue_key(account_id), limit=100):
            self._fail(queued, f"account_{health.value}", message, refund=True)
        return outcome

    def _fast_exhausted(self, account_id: str, job: Job | None) -> Outcome:
        """Out of fast hours: switch the account to relax (when allowed) and put the job back in the queue."""
        outcome = Outcome(job_id=job.id if job else None)
        account = get_account(self.table, account_id)
        if self.fast_fallback_to_relax and account is not None:
            set_mode(self.table, account_id, Mode.RELAX.value)
            if self._new_job_id is not None:
                now = now_ms()
                outcome.follow_ups.append(
                    Job(
                        id=self._new_job_id(),
                        kind=JobKind.SWITCH,
                        bot=job.bot if job is not None else account.bots[0],
                        account_id=account_id,
                        options={"command": "relax"},
                        created_at=now,
                        updated_at=now,
                    )
                )
        else:
            set_health(self.table, account_id, Health.DISABLED, "Fast hours exhausted")
        if job is not None and job.is_active:
            queue_key = (
                keys.account_queue_key(account_id)
                if job.kind == JobKind.ACTION
                else keys.pool_queue_key(job.bot.value, job.mode.value if job.mode else None)
            )
            if self.jobs.requeue(job, queue_key) is not None:
                outcome.released_account = account_id if job.holds_slot else None
        return outcome

    # -- helpers --------------------------------------------------------------------------------------------------

    def _fail(self, job: Job, code: str, message: str, *, refund: bool = False) -> Outcome:
        finished = self.jobs.finish(
            job, JobStatus.FAILED, {"error": ErrorInfo(code=code, message=message).model_dump()}, refund=refund
        )
        if finished is None:
            return Outcome(job_id=job.id)
        return Outcome(
            job_id=job.id, finished=JobStatus.FAILED, released_account=job.account_id if job.holds_slot else None
        )


def _nothing(_account_id: str, _event: Any) -> Outcome:
    return Outcome()


def _mode(mode: str) -> Mode:
    return Mode.RELAX if mode.startswith("relax") else Mode(mode)


def _info_dict(info: AccountInfo) -> dict[str, Any]:
    data = info.model_dump(exclude_none=True)
    data["running_jobs"] = list(info.running_jobs)
    return data
