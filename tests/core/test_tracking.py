"""Bot events -> job transitions, against moto and a loopback CDN, with realistic recorded dispatches."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from mjapi import aws
from mjapi.clock import now_ms
from mjapi.ids import new_job_id
from mjapi.midjourney import parse_dispatch
from mjapi.models import AccountConfig, Health, Job, JobKind, JobStatus, Mode
from mjapi.settings import get_settings
from mjapi.store import keys
from mjapi.store.accounts import get_account, set_session, sync_accounts
from mjapi.store.jobs import JobStore
from mjapi.store.table import Table
from mjapi.store.tokens import create_token, get_token
from mjapi.tracking.applier import EventApplier, Outcome
from mjapi.tracking.image_copy import ImageCopier
from tests.support import dispatches
from tests.support.image_server import base_url, image_server

CHANNEL = "1069126859100524575"


@dataclass
class World:
    table: Table
    jobs: JobStore
    applier: EventApplier
    cdn: str
    token_hash: str
    missing: set[str]

    def job(
        self,
        nonce: str,
        *,
        prompt: str = "glass frog on a lily pad, macro photography --ar 2:3 --v 6.0",
        kind: JobKind = JobKind.IMAGINE,
        account: str = "a1",
        **extra: Any,
    ) -> Job:
        now = now_ms()
        job = Job(
            id=new_job_id(),
            kind=kind,
            status=JobStatus.SUBMITTED,
            token_hash=self.token_hash,
            prompt=prompt,
            account_id=account,
            channel_id=CHANNEL,
            nonce=nonce,
            holds_slot=True,
            created_at=now,
            submitted_at=now,
            **extra,
        )
        self.jobs.create_running(job, charge=True, mode=None)
        return job

    def feed(self, t: str, d: dict[str, Any], account: str = "a1") -> Outcome:
        return self.applier.apply(account, parse_dispatch(t, d))

    def get(self, job: Job) -> Job:
        found = self.jobs.get(job.id)
        assert found is not None
        return found


@pytest.fixture
def world(table: Table) -> Iterator[World]:
    sync_accounts(
        table,
        [
            AccountConfig(id="a1", token=SecretStr("t1"), channel_id=CHANNEL, concurrency=5),
            AccountConfig(id="a2", token=SecretStr("t2"), channel_id="222", concurrency=5),
        ],
    )
    for account_id in ("a1", "a2"):
        set_session(table, account_id, f"session-{account_id}")
    _clear, token = create_token(table, count=50, days=1)
    with image_server() as server, httpx.Client() as http:
        jobs = JobStore(table)
        applier = EventApplier(jobs, ImageCopier(http, sleep=lambda _: None), new_job_id=new_job_id)
        yield World(table, jobs, applier, base_url(server), token.token_hash, server.missing)


def _grid(
    world: World,
    *,
    message_id: str,
    interaction_id: str | None,
    reference: str | None = None,
    name: str = "imagine_grid_result",
) -> tuple[str, dict[str, Any]]:
    return dispatches.message(
        name,
        message_id=message_id,
        channel_id=CHANNEL,
        interaction_id=interaction_id,
        reference=reference,
        cdn=world.cdn,
    )


def test_full_lifecycle_rehosts_images_and_releases_the_slot(world: World) -> None:
    job = world.job("n-1")
    world.feed(*dispatches.interaction("INTERACTION_SUCCESS", interaction_id="i-1", nonce="n-1"))
    world.feed(
        *dispatches.message(
            "imagine_waiting_to_start", message_id="m-1", channel_id=CHANNEL, nonce="n-1", interaction_id="i-1"
        )
    )
    waiting = world.get(job)
    assert waiting.status == JobStatus.WAITING
    assert waiting.message_id == "m-1"
    assert waiting.interaction_id == "i-1"

    world.feed(
        *dispatches.message(
            "imagine_progress_31_fast", message_id="m-1", channel_id=CHANNEL, interaction_id="i-1", cdn=world.cdn
        )
    )
    running = world.get(job)
    assert running.status == JobStatus.RUNNING
    assert running.progress == 31
    assert running.preview_url and running.preview_url.startswith("https://cdn.test.invalid/previews/")

    outcome = world.feed(*_grid(world, message_id="r-1", interaction_id="i-1"))
    assert outcome.finished == JobStatus.SUCCEEDED
    assert outcome.released_account == "a1"
    done = world.get(job)
    assert done.status == JobStatus.SUCCEEDED
    assert done.progress == 100
    assert done.result_message_id == "r-1"
    assert done.message_hash == "350fb24a-dd72-45f2-ade8-048379a2ed5a"
    assert [b.label for b in done.buttons[0]] == ["U1", "U2", "U3", "U4", ""]
    assert done.buttons[0][4].emoji == "🔄"
    assert [b.label for b in done.buttons[1]] == ["V1", "V2", "V3", "V4"]
    image = done.images[0]
    assert image.url.startswith("https://cdn.test.invalid/images/")
    assert "discord" not in image.url
    obj = aws.client("s3").get_object(Bucket=get_settings().bucket_name, Key=image.key)
    assert obj["ContentType"] == "image/png"
    assert obj["Body"].read()[:8] == b"\x89PNG\r\n\x1a\n"
    account = get_account(world.table, "a1")
    assert account is not None and account.slots_used == 0
    assert world.jobs.resolve_ref("message", "r-1") == job.id


def test_replayed_events_change_nothing(world: World) -> None:
    job = world.job("n-2")
    frames = [
        dispatches.interaction("INTERACTION_SUCCESS", interaction_id="i-2", nonce="n-2"),
        dispatches.message(
            "imagine_waiting_to_start", message_id="m-2", channel_id=CHANNEL, nonce="n-2", interaction_id="i-2"
        ),
        dispatches.message(
            "imagine_progress_31_fast", message_id="m-2", channel_id=CHANNEL, interaction_id="i-2", cdn=world.cdn
        ),
        _grid(world, message_id="r-2", interaction_id="i-2"),
    ]
    for frame in frames:
        world.feed(*frame)
    first = world.get(job)
    for frame in frames:  # a RESUME replays everything
        outcome = world.feed(*frame)
        assert outcome.released_account is None
    again = world.get(job)
    assert again.status == JobStatus.SUCCEEDED
    assert again.finished_at == first.finished_at
    assert again.images == first.images
    account = get_account(world.table, "a1")
    assert account is not None and account.slots_used == 0


def test_identical_prompts_never_swap(world: World) -> None:
    first, second = world.job("n-a"), world.job("n-b")
    for nonce, iid, mid in (("n-a", "i-a", "m-a"), ("n-b", "i-b", "m-b")):
        world.feed(*dispatches.interaction("INTERACTION_SUCCESS", interaction_id=iid, nonce=nonce))
        world.feed(
            *dispatches.message(
                "imagine_waiting_to_start", message_id=mid, channel_id=CHANNEL, nonce=nonce, interaction_id=iid
            )
        )
    # Results arrive in the opposite order, with nothing but the interaction id to tell them apart.
    world.feed(*_grid(world, message_id="r-b", interaction_id="i-b"))
    world.feed(*_grid(world, message_id="r-a", interaction_id="i-a"))
    assert world.get(first).result_message_id == "r-a"
    assert world.get(second).result_message_id == "r-b"
    assert world.get(first).images[0].key != world.get(second).images[0].key


def test_prompt_fallback_refuses_ambiguity(world: World) -> None:
    first, second = world.job("n-x"), world.job("n-y")
    # A result with no usable key (relay missed everything): two candidates, so nothing is guessed.
    world.feed(*_grid(world, message_id="r-x", interaction_id="unknown"))
    assert world.get(first).status == JobStatus.SUBMITTED
    assert world.get(second).status == JobStatus.SUBMITTED
    world.jobs.finish(world.get(second), JobStatus.CANCELLED)
    world.feed(*_grid(world, message_id="r-x", interaction_id="unknown"))
    assert world.get(first).status == JobStatus.SUCCEEDED


def test_error_embed_fails_the_job_with_its_kind(world: World) -> None:
    job = world.job("n-3")
    outcome = world.feed(
        *dispatches.message(
            "notice_banned_prompt", message_id="e-3", channel_id=CHANNEL, nonce="n-3", interaction_id="i-3"
        )
    )
    assert outcome.finished == JobStatus.FAILED
    failed = world.get(job)
    assert failed.error is not None
    assert failed.error.code == "banned_prompt"
    assert "community guidelines" in failed.error.message


def test_interaction_failure_refunds(world: World) -> None:
    job = world.job("n-4")
    before = get_token(world.table, world.token_hash)
    world.feed(*dispatches.interaction("INTERACTION_FAILURE", interaction_id="i-4", nonce="n-4"))
    failed = world.get(job)
    assert failed.status == JobStatus.FAILED
    assert failed.error is not None and failed.error.code == "interaction_failed"
    after = get_token(world.table, world.token_hash)
    assert before is not None and after is not None and after.remaining == before.remaining + 1


def test_captcha_takes_the_account_out_and_fails_its_jobs(world: World) -> None:
    hit, other = world.job("n-5"), world.job("n-6")
    elsewhere = world.job("n-7", account="a2")
    pinned = Job(
        id=new_job_id(),
        kind=JobKind.ACTION,
        status=JobStatus.QUEUED,
        token_hash=world.token_hash,
        queue_key=keys.account_queue_key("a1"),
        created_at=now_ms(),
    )
    world.jobs.create_queued(pinned, charge=True, limit=10)
    world.feed(
        *dispatches.message(
            "notice_captcha_action_required", message_id="e-5", channel_id=CHANNEL, nonce="n-5", interaction_id="i-5"
        )
    )
    account = get_account(world.table, "a1")
    assert account is not None
    assert account.health == Health.CAPTCHA
    assert not account.usable
    assert account.slots_used == 0
    for job in (hit, other, pinned):
        failed = world.get(job)
        assert failed.status == JobStatus.FAILED
        assert failed.error is not None and failed.error.code == "account_captcha"
    assert world.get(elsewhere).status == JobStatus.SUBMITTED


def test_credits_exhausted_requeues_and_switches_to_relax(world: World) -> None:
    job = world.job("n-8")
    outcome = world.feed(
        *dispatches.message(
            "notice_credits_exhausted", message_id="e-8", channel_id=CHANNEL, nonce="n-8", interaction_id="i-8"
        )
    )
    requeued = world.get(job)
    assert requeued.status == JobStatus.QUEUED
    assert requeued.queue_key == "mj#any"
    assert requeued.account_id is None
    account = get_account(world.table, "a1")
    assert account is not None and account.mode == Mode.RELAX and account.slots_used == 0
    assert [f.options for f in outcome.follow_ups] == [{"command": "relax"}]


def test_button_result_found_through_message_reference(world: World) -> None:
    parent = world.job("n-9")
    world.feed(*dispatches.interaction("INTERACTION_SUCCESS", interaction_id="i-9", nonce="n-9"))
    world.feed(*_grid(world, message_id="r-9", interaction_id="i-9"))
    done_parent = world.get(parent)
    u2 = next(b for row in done_parent.buttons for b in row if b.label == "U2")
    child = world.job("n-10", kind=JobKind.ACTION, parent_id=parent.id, parent_message_id="r-9", custom_id=u2.custom_id)
    world.jobs.add_child(parent.id, child.id)
    # No interaction keys at all on the upscale result: only message_reference ties it to the parent's U2.
    world.feed(
        *dispatches.message(
            "upscale_legacy_image_2",
            message_id="u-10",
            channel_id=CHANNEL,
            interaction_id=None,
            reference="r-9",
            cdn=world.cdn,
        )
    )
    upscaled = world.get(child)
    assert upscaled.status == JobStatus.SUCCEEDED
    assert upscaled.result_message_id == "u-10"
    assert world.get(parent).status == JobStatus.SUCCEEDED


def test_describe_binds_then_completes_on_update(world: World) -> None:
    job = world.job("n-11", kind=JobKind.DESCRIBE, prompt="")
    world.feed(
        *dispatches.message(
            "describe_started", message_id="d-11", channel_id=CHANNEL, nonce="n-11", interaction_id="i-11"
        )
    )
    assert world.get(job).message_id == "d-11"
    world.feed(
        *dispatches.message(
            "describe_result", message_id="d-11", channel_id=CHANNEL, interaction_id="i-11", cdn=world.cdn
        )
    )
    done = world.get(job)
    assert done.status == JobStatus.SUCCEEDED
    assert len(done.prompts) == 4
    assert all(p for p in done.prompts)


def test_expired_cdn_link_fails_cleanly_without_refresher(world: World) -> None:
    job = world.job("n-12")
    world.feed(*dispatches.interaction("INTERACTION_SUCCESS", interaction_id="i-12", nonce="n-12"))
    t, d = _grid(world, message_id="r-12", interaction_id="i-12")
    world.missing.add(d["attachments"][0]["url"].split("?")[0].replace(world.cdn, ""))
    world.feed(t, d)
    failed = world.get(job)
    assert failed.status == JobStatus.FAILED
    assert failed.error is not None and failed.error.code == "image_unavailable"
    account = get_account(world.table, "a1")
    assert account is not None and account.slots_used == 0


def test_job_queued_notice_keeps_the_job_waiting(world: World) -> None:
    job = world.job("n-13")
    outcome = world.feed(
        *dispatches.message(
            "notice_job_queued", message_id="q-13", channel_id=CHANNEL, nonce="n-13", interaction_id="i-13"
        )
    )
    assert outcome.finished is None
    waiting = world.get(job)
    assert waiting.status == JobStatus.WAITING
    assert waiting.notice == "job_queued"
    assert waiting.holds_slot


def test_a_remix_form_is_filled_with_the_callers_prompt(world: World) -> None:
    custom_id = "MJ::JOB::variation::1::350fb24a-dd72-45f2-ade8-048379a2ed5a"
    job = world.job("n-14", kind=JobKind.ACTION, custom_id=custom_id, options={"prompt": "a red frog --ar 2:3"})
    frame = dispatches.fixture("interaction_modal_create_remix")
    frame["d"]["nonce"] = "n-14"
    outcome = world.feed(frame["t"], frame["d"])
    assert outcome.finished is None and world.get(job).status == JobStatus.SUBMITTED
    [form] = outcome.forms
    assert form.job_id == job.id and not form.editor
    assert form.custom_id == frame["d"]["custom_id"]
    assert form.interaction_id == frame["d"]["id"]
    assert form.text_input_id == "MJ::RemixModal::new_prompt"
    assert form.value == "a red frog --ar 2:3"


def test_a_form_without_a_callers_prompt_keeps_the_bots_prefill(world: World) -> None:
    """Remix mode on and no prompt given: submit what the bot prefilled (the job's prompt), never fail the job."""
    custom_id = "MJ::JOB::variation::1::350fb24a-dd72-45f2-ade8-048379a2ed5a"
    world.job("n-16", kind=JobKind.ACTION, custom_id=custom_id)
    frame = dispatches.fixture("interaction_modal_create_remix")
    frame["d"]["nonce"] = "n-16"
    prefilled = frame["d"]["components"][0]["components"][0]["value"]
    [form] = world.feed(frame["t"], frame["d"]).forms
    assert prefilled and form.value == prefilled


def test_the_region_editor_needs_a_mask(world: World) -> None:
    custom_id = "MJ::Inpaint::1::350fb24a-dd72-45f2-ade8-048379a2ed5a::SOLO"
    with_mask = world.job("n-17", kind=JobKind.ACTION, custom_id=custom_id, options={"mask_key": "masks/m.png"})
    without = world.job("n-18", kind=JobKind.ACTION, custom_id=custom_id)
    before = get_token(world.table, world.token_hash)
    for nonce in ("n-17", "n-18"):
        frame = dispatches.fixture("interaction_iframe_modal_create_inpaint")
        frame["d"]["nonce"] = nonce
        outcome = world.feed(frame["t"], frame["d"])
        if nonce == "n-17":
            [form] = outcome.forms
            assert form.editor and form.job_id == with_mask.id and form.custom_id.startswith("MJ::iframe::")
        else:
            assert outcome.finished == JobStatus.FAILED and not outcome.forms
    failed = world.get(without)
    assert failed.error is not None and failed.error.code == "mask_required"
    after = get_token(world.table, world.token_hash)
    assert before is not None and after is not None and after.remaining == before.remaining + 1


def test_captcha_page_instead_of_a_result_takes_the_account_out(world: World) -> None:
    job = world.job("n-15")
    frame = dispatches.fixture("interaction_iframe_modal_create_captcha")
    frame["d"]["nonce"] = "n-15"
    world.feed(frame["t"], frame["d"])
    account = get_account(world.table, "a1")
    assert account is not None and account.health == Health.CAPTCHA
    failed = world.get(job)
    assert failed.error is not None and failed.error.code == "account_captcha"


def test_a_deferred_answer_reaches_its_job_through_the_loading_message(world: World) -> None:
    """/info (like /settings, /describe, /shorten, /prefer) answers with an empty loading message carrying the nonce,
    then edits that message, without a nonce, into the answer: the edit is matched by the message id."""
    job = world.job("1240589160442351811", kind=JobKind.INFO, options={"command": "info"})
    deferred = dispatches.fixture("info_deferred")["d"]
    outcome = world.feed("MESSAGE_CREATE", deferred)
    assert outcome.job_id == job.id and outcome.finished is None
    assert world.get(job).status == JobStatus.WAITING
    answer = dispatches.fixture("info_result")["d"]
    assert answer["id"] == deferred["id"] and "nonce" not in answer
    finished = world.feed("MESSAGE_UPDATE", answer)
    assert finished.job_id == job.id and finished.finished == JobStatus.SUCCEEDED
    assert world.get(job).info["subscription"].startswith("Pro")


def test_restyling_the_parent_for_a_pressed_button_is_not_the_childs_result(world: World) -> None:
    """The bot edits the grid to turn the pressed button style 1, and the edit may carry the click's interaction: it
    is still the parent's message, so the child keeps waiting for its own result."""
    parent = world.job("n-19")
    world.feed(*dispatches.interaction("INTERACTION_SUCCESS", interaction_id="i-19", nonce="n-19"))
    world.feed(*_grid(world, message_id="r-19", interaction_id="i-19"))
    done_parent = world.get(parent)
    v1 = next(b for row in done_parent.buttons for b in row if b.label == "V1")
    child = world.job(
        "n-20", kind=JobKind.ACTION, parent_id=parent.id, parent_message_id="r-19", custom_id=v1.custom_id
    )
    world.jobs.add_child(parent.id, child.id)
    world.feed(*dispatches.interaction("INTERACTION_SUCCESS", interaction_id="i-20", nonce="n-20"))
    _t, edit = _grid(world, message_id="r-19", interaction_id="i-20")
    outcome = world.feed("MESSAGE_UPDATE", edit)
    assert outcome.finished is None
    assert world.get(child).status == JobStatus.SUBMITTED
    assert world.get(parent).result_message_id == "r-19"
