"""The midjourney-proxy Task JSON of every kind of job in every status: exact JSON types, status and progress mapping,
the action names from the action table, describe's prompts where OSS puts them, buttons never null."""

from __future__ import annotations

from typing import Any

import pytest

from mjapi.api.proxy_views import MODAL_DESCRIPTION, task_view
from mjapi.models import Bot, Button, ErrorInfo, Image, Job, JobKind, JobStatus

HASH = "350fb24a-dd72-45f2-ade8-048379a2ed5a"
GRID_BUTTONS = [
    [Button(label="U1", custom_id=f"MJ::JOB::upsample::1::{HASH}", style=2)],
    [Button(emoji="🔄", custom_id=f"MJ::JOB::reroll::0::{HASH}::SOLO", style=2)],
    [Button(emoji="❤️", custom_id=f"MJ::BOOKMARK::{HASH}")],
]


def _job(**changes: Any) -> Job:
    base: dict[str, Any] = {
        "id": "1700000000000123456",
        "kind": JobKind.IMAGINE,
        "prompt": "a red fox --v 6.1",
        "created_at": 1_700_000_000_000,
    }
    base.update(changes)
    return Job.model_validate(base)


def _check_types(task: dict[str, Any]) -> None:
    """The types a Go or TypeScript client decodes into (docs/MIDJOURNEY_PROXY_API.md §5, §9)."""
    for name in ("id", "action", "status", "progress", "prompt", "promptEn", "description", "botType"):
        assert isinstance(task[name], str), name
    for name in ("submitTime", "startTime", "finishTime"):
        assert task[name] is None or (isinstance(task[name], int) and not isinstance(task[name], bool)), name
    for name in ("imageUrl", "failReason", "state"):
        assert task[name] is None or isinstance(task[name], str), name
    assert isinstance(task["buttons"], list)
    for button in task["buttons"]:
        assert set(button) == {"customId", "emoji", "label", "type", "style"}
        assert isinstance(button["customId"], str) and isinstance(button["emoji"], str)
        assert isinstance(button["label"], str) and button["type"] == 2 and isinstance(button["style"], int)
    assert isinstance(task["properties"], dict)
    assert all(isinstance(key, str) for key in task["properties"])


@pytest.mark.parametrize(
    ("status", "progress", "expected_status", "expected_progress"),
    [
        (JobStatus.QUEUED, 0, "NOT_START", "0%"),
        (JobStatus.SUBMITTED, 0, "SUBMITTED", "0%"),
        (JobStatus.WAITING, 0, "IN_PROGRESS", "0%"),
        (JobStatus.RUNNING, 46, "IN_PROGRESS", "46%"),
        (JobStatus.RUNNING, 100, "IN_PROGRESS", "99%"),  # "100%" only once it has succeeded
        (JobStatus.SUCCEEDED, 100, "SUCCESS", "100%"),
        (JobStatus.FAILED, 30, "FAILURE", ""),
        (JobStatus.CANCELLED, 30, "CANCEL", ""),
        (JobStatus.MODAL, 0, "MODAL", "0%"),
    ],
)
def test_status_and_progress(status: JobStatus, progress: int, expected_status: str, expected_progress: str) -> None:
    task = task_view(_job(status=status, progress=progress))
    _check_types(task)
    assert (task["status"], task["progress"]) == (expected_status, expected_progress)
    if expected_status in ("FAILURE", "CANCEL"):
        assert task["failReason"]
    else:
        assert task["failReason"] is None


def test_a_finished_grid() -> None:
    job = _job(
        status=JobStatus.SUCCEEDED,
        progress=100,
        final_prompt="a red fox --v 6.1 --ar 1:1",
        bot=Bot.NIJI,
        account_id="acc-1",
        channel_id="111",
        message_id="900",
        result_message_id="901",
        message_hash=HASH,
        nonce="1234",
        state="caller-state",
        notify_hook="https://example.com/hook",
        images=[Image(url="https://cdn.test/images/ab/abc.png")],
        buttons=GRID_BUTTONS,
        submitted_at=1_700_000_000_500,
        finished_at=1_700_000_030_000,
    )
    task = task_view(job)
    _check_types(task)
    assert task["id"] == "1700000000000123456"
    assert task["action"] == "IMAGINE"
    assert task["description"] == "/imagine a red fox --v 6.1"
    assert task["prompt"] == task["promptEn"] == "a red fox --v 6.1"
    assert task["imageUrl"] == "https://cdn.test/images/ab/abc.png"
    assert (task["submitTime"], task["startTime"], task["finishTime"]) == (
        1_700_000_000_000,
        1_700_000_000_500,
        1_700_000_030_000,
    )
    assert task["botType"] == "NIJI_JOURNEY" and task["state"] == "caller-state"
    assert task["buttons"] == [  # the ❤️ bookmark is feedback, not an action
        {"customId": f"MJ::JOB::upsample::1::{HASH}", "emoji": "", "label": "U1", "type": 2, "style": 2},
        {"customId": f"MJ::JOB::reroll::0::{HASH}::SOLO", "emoji": "🔄", "label": "", "type": 2, "style": 2},
    ]
    assert task["properties"] == {
        "finalPrompt": "a red fox --v 6.1 --ar 1:1",
        "messageId": "901",
        "progressMessageId": "900",
        "messageHash": HASH,
        "nonce": "1234",
        "flags": 0,
        "discordInstanceId": "acc-1",
        "discordChannelId": "111",
        "notifyHook": "https://example.com/hook",
    }


def test_a_running_job_shows_its_preview_and_a_queued_one_nothing() -> None:
    running = task_view(_job(status=JobStatus.RUNNING, progress=31, preview_url="https://cdn.test/p.webp"))
    assert running["imageUrl"] == "https://cdn.test/p.webp"
    queued = task_view(_job(status=JobStatus.QUEUED))
    _check_types(queued)
    assert queued["imageUrl"] is None and queued["startTime"] is None and queued["buttons"] == []


def test_failure_carries_the_reason() -> None:
    task = task_view(
        _job(status=JobStatus.FAILED, error=ErrorInfo(code="banned_prompt", message="Banned prompt detected"))
    )
    assert task["failReason"] == "Banned prompt detected" and task["progress"] == ""


@pytest.mark.parametrize(
    ("custom_id", "index", "action", "description"),
    [
        (f"MJ::JOB::upsample::2::{HASH}", 2, "UPSCALE", "/up 42 U2"),
        (f"MJ::JOB::variation::3::{HASH}", 3, "VARIATION", "/up 42 V3"),
        (f"MJ::JOB::reroll::0::{HASH}::SOLO", 0, "REROLL", "/up 42 R"),
        (f"MJ::JOB::low_variation::1::{HASH}::SOLO", 1, "VARIATION", None),
        (f"MJ::Inpaint::1::{HASH}::SOLO", 1, "INPAINT", None),
        (f"MJ::Outpaint::50::1::{HASH}::SOLO", 1, "ZOOM", None),
        (f"MJ::CustomZoom::{HASH}", None, "CUSTOM_ZOOM", None),
        (f"MJ::JOB::pan_left::1::{HASH}::SOLO", 1, "PAN", None),
        (f"MJ::JOB::upsample_v6_2x_subtle::1::{HASH}::SOLO", 1, "UPSCALE", None),
        ("MJ::Job::PicReader::2", 2, "IMAGINE", None),
    ],
)
def test_button_jobs_take_the_proxy_action_of_the_action_table(
    custom_id: str, index: int | None, action: str, description: str | None
) -> None:
    task = task_view(_job(kind=JobKind.ACTION, custom_id=custom_id, index=index, parent_id="42"))
    _check_types(task)
    assert task["action"] == action
    assert task["parentId"] == "42"
    assert task["properties"]["customId"] == custom_id
    assert task["description"] == (description or f"/action 42 {custom_id}")


def test_a_modal_task_waits_for_its_form() -> None:
    task = task_view(
        _job(kind=JobKind.ACTION, status=JobStatus.MODAL, custom_id=f"MJ::CustomZoom::{HASH}", parent_id="42")
    )
    _check_types(task)
    assert task["status"] == "MODAL" and task["description"] == MODAL_DESCRIPTION
    assert task["properties"]["remix"] is True and task["properties"]["finalPrompt"] == "a red fox --v 6.1"


def test_describe_puts_its_prompts_in_prompt_and_final_prompt() -> None:
    prompts = ["a red square --ar 4:3", "a crimson tile --ar 4:3"]
    job = _job(
        kind=JobKind.DESCRIBE,
        prompt="",
        status=JobStatus.SUCCEEDED,
        prompts=prompts,
        upload_url="https://cdn.test/uploads/ab/abc.png",
        options={"upload_key": "uploads/ab/abc.png", "filename": "red.png"},
    )
    task = task_view(job)
    _check_types(task)
    assert task["action"] == "DESCRIBE"
    assert task["prompt"] == task["properties"]["finalPrompt"] == "a red square --ar 4:3\n\na crimson tile --ar 4:3"
    assert task["imageUrl"] == "https://cdn.test/uploads/ab/abc.png"
    assert task["description"] == f"/describe {job.id}.png"


@pytest.mark.parametrize(
    ("kind", "options", "action", "description"),
    [
        (JobKind.BLEND, {"upload_keys": ["a", "b", "c"]}, "BLEND", "/blend 1700000000000123456 3"),
        (JobKind.SHORTEN, {}, "SHORTEN", "/shorten a red fox --v 6.1"),
        (JobKind.SHOW, {"job_hash": HASH}, "SHOW", f"/show {HASH}"),
    ],
)
def test_other_commands(kind: JobKind, options: dict[str, Any], action: str, description: str) -> None:
    task = task_view(_job(kind=kind, options=options, prompts=["short one", "short two"]))
    _check_types(task)
    assert (task["action"], task["description"]) == (action, description)
    if kind == JobKind.SHORTEN:
        assert task["properties"]["finalPrompt"] == "short one\n\nshort two"
        assert task["prompt"] == "a red fox --v 6.1"


def test_a_known_seed_is_a_string_property() -> None:
    task = task_view(_job(status=JobStatus.SUCCEEDED, info={"seed": 123456}))
    assert task["properties"]["seed"] == "123456"
