"""Every recorded dispatch in tests/fixtures/dispatches parses into the expected typed event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mjapi.midjourney import parse_dispatch, parse_message, parse_payload
from mjapi.midjourney.actions import ButtonAction, ModalKind
from mjapi.midjourney.models import EVENT_ADAPTER, Event
from mjapi.midjourney.notices import AccountIssue, NoticeKind

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dispatches"
H = "350fb24a-dd72-45f2-ade8-048379a2ed5a"
H2 = "8f2c6a0e-3b1d-4c57-9e6f-2d4b7a1c9e30"
PROMPT = "glass frog on a lily pad, macro photography --ar 2:3 --v 6.0"
USER = "1097074882203303911"
NONCE = "1240589160442351616"
IID = "1240589162912661514"
GRID_MSG = "1240589442362523728"
UPSCALE_MSG = "1240589170193723462"


def _notice(kind: NoticeKind, fails: bool, issue: AccountIssue | None = None, **extra: Any) -> dict[str, Any]:
    return {"kind": "notice", "notice": kind, "fails_job": fails, "account_issue": issue, **extra}


# fixture name -> expected attribute values (dotted paths into the event)
EXPECTED: dict[str, dict[str, Any]] = {
    "imagine_waiting_to_start": {
        "kind": "job_started",
        "action": "imagine",
        "prompt": PROMPT,
        "correlation.nonce": NONCE,
        "correlation.interaction_id": IID,
        "correlation.interaction_name": "imagine",
        "correlation.user_id": USER,
        "correlation.message_id": "1240589170193723452",
        "correlation.bot": "mj",
    },
    "imagine_progress_31_fast": {
        "kind": "job_progress",
        "percent": 31,
        "mode": "fast",
        "stealth": False,
        "preview.filename": f"{H}_grid_0.webp",
        "preview.width": 512,
        "preview.content_type": "image/webp",
        "correlation.job_hash": H,
        "correlation.nonce": None,
        "correlation.message_id": "1240589170193723452",
    },
    "imagine_progress_62_relaxed_stealth": {"kind": "job_progress", "percent": 62, "mode": "relax", "stealth": True},
    "imagine_paused_relaxed": {"kind": "job_paused", "mode": "relax", "prompt": PROMPT},
    "imagine_stopped": {"kind": "job_stopped", "prompt": PROMPT},
    "progress_message_deleted": {"kind": "message_deleted", "id": "1240589170193723452"},
    "imagine_grid_result": {
        "kind": "job_result",
        "action": "imagine",
        "mode": "fast",
        "prompt": PROMPT,
        "images.0.width": 1792,
        "images.0.height": 2688,
        "images.0.size": 7349102,
        "images.0.content_type": "image/png",
        "images.0.job_hash": H,
        "buttons.0.action": ButtonAction.UPSAMPLE,
        "buttons.0.label": "U1",
        "buttons.4.action": ButtonAction.REROLL,
        "buttons.4.emoji": "🔄",
        "buttons.8.action": ButtonAction.VARIATION,
        "buttons.8.parsed.index": 4,
        "correlation.job_hash": H,
        "correlation.interaction_id": IID,
    },
    "imagine_grid_result_open_on_website": {
        "kind": "job_result",
        "action": "imagine",
        "mode": "relax",
        "correlation.job_hash": H,
    },
    "blend_grid_result": {
        "kind": "job_result",
        "action": "blend",
        "prompt": "<https://s.mj.run/Xg2Gq1TXMgc> <https://s.mj.run/pnvVhedeTbw> --ar 2:3 --v 5.1",
    },
    "niji_grid_result": {
        "kind": "job_result",
        "action": "imagine",
        "mode": "turbo",
        "correlation.bot": "niji",
        "correlation.job_hash": H2,
    },
    "variation_prestart": {
        "kind": "job_started",
        "action": "variation",
        "index": 1,
        "prompt": PROMPT,
        "correlation.referenced_message_id": GRID_MSG,
    },
    "upscale_prestart": {"kind": "job_started", "action": "upscale", "index": 2},
    "upscale_legacy_image_2": {
        "kind": "job_result",
        "action": "upscale",
        "variant": "legacy",
        "index": 2,
        "mode": None,
        "correlation.referenced_message_id": GRID_MSG,
        "correlation.referenced_job_hash": H,
        "correlation.job_hash": H2,
        "buttons.0.action": ButtonAction.UPSCALE_SUBTLE,
        "buttons.1.action": ButtonAction.UPSCALE_CREATIVE,
        "buttons.2.action": ButtonAction.VARY_SUBTLE,
        "buttons.3.action": ButtonAction.VARY_STRONG,
        "buttons.4.action": ButtonAction.VARY_REGION,
        "buttons.5.action": ButtonAction.ZOOM_OUT,
        "buttons.5.parsed.zoom_factor": 2.0,
        "buttons.6.parsed.zoom_factor": 1.5,
        "buttons.7.action": ButtonAction.CUSTOM_ZOOM,
        "buttons.8.parsed.direction": "left",
        "buttons.11.parsed.direction": "down",
        "buttons.__len__": 12,  # the bookmark (noise) and the Web link button are left out
    },
    "upscale_progress_31": {"kind": "job_progress", "action": "upscale", "percent": 31, "correlation.job_hash": H2},
    "upscale_subtle_result": {
        "kind": "job_result",
        "action": "upscale",
        "variant": "subtle",
        "correlation.referenced_message_id": UPSCALE_MSG,
        "correlation.referenced_job_hash": H2,
        "correlation.job_hash": "c0ffee00-7a1b-4c2d-9e3f-5a6b7c8d9e0f",
        "buttons.0.action": ButtonAction.UPSCALE_CREATIVE,
        "buttons.__len__": 1,
    },
    "upscale_4x_result": {
        "kind": "job_result",
        "action": "upscale",
        "variant": "4x",
        "mode": "fast",
        "correlation.job_hash": H,
    },
    "variation_strong_result": {"kind": "job_result", "action": "variation", "variant": "strong", "remix": False},
    "remix_subtle_result": {
        "kind": "job_result",
        "action": "variation",
        "variant": "subtle",
        "remix": True,
        "mode": "relax",
        "prompt": f"{PROMPT}, neon lights",
    },
    "variation_region_progress_45_turbo": {
        "kind": "job_progress",
        "action": "variation",
        "variant": "region",
        "percent": 45,
        "mode": "turbo",
    },
    "zoom_out_result": {"kind": "job_result", "action": "zoom"},
    "pan_left_result": {"kind": "job_result", "action": "pan", "direction": "left", "mode": "relax"},
    "describe_started": {"kind": "job_started", "action": "describe", "correlation.nonce": "1240589160442351700"},
    "describe_result": {
        "kind": "describe_result",
        "prompts.__len__": 4,
        "prompts.0": "a green glass frog sitting on a lily pad, macro photography, shallow depth of field --ar 1:1",
        "prompts.3": "macro shot of a glass frog, emerald tones, rainforest background --ar 1:1",
        "image.width": 1024,
        "buttons.0.action": ButtonAction.DESCRIBE_IMAGINE,
        "buttons.4.action": ButtonAction.DESCRIBE_RETRY,
        "buttons.5.action": ButtonAction.DESCRIBE_IMAGINE_ALL,
        "correlation.job_hash": None,
    },
    "shorten_result": {
        "kind": "shorten_result",
        "prompts": (
            "glass frog, lily pad, macro photography",
            "glass frog, lily pad, macro",
            "glass frog, lily pad",
            "glass frog, macro",
            "glass frog",
        ),
        "buttons.0.action": ButtonAction.SHORTEN_IMAGINE,
        "buttons.5.action": ButtonAction.UNKNOWN,
    },
    "info_deferred": {
        "kind": "deferred",
        "command": "info",
        "correlation.nonce": "1240589160442351811",
        "correlation.message_id": "1240589170193723473",
        "correlation.ephemeral": True,
    },
    "info_result": {
        "kind": "info",
        "info.subscription": "Pro (Active yearly, renews next on <t:1735689600>)",
        "info.job_mode": "fast",
        "info.visibility": "stealth",
        "info.fast_time_remaining_hours": 29.57,
        "info.fast_time_total_hours": 30.0,
        "info.fast_time_remaining_percent": 98.58,
        "info.lifetime_images": 1102,
        "info.lifetime_hours": 17.71,
        "info.relaxed_images": 19,
        "info.relaxed_hours": 0.29,
        "info.queued_jobs_fast": 0,
        "info.queued_jobs_relax": 2,
        "info.running_jobs": (),
        "correlation.ephemeral": True,
    },
    "relax_switched": {"kind": "mode_switched", "mode": "relax"},
    "fast_switched": {"kind": "mode_switched", "mode": "fast"},
    "turbo_switched": {"kind": "mode_switched", "mode": "turbo"},
    "prefer_remix_on": {"kind": "remix_toggled", "enabled": True},
    "settings_panel": {
        "kind": "settings",
        "remix": True,
        "mode": "fast",
        "high_variability": False,
        "raw_style": True,
        "selects.0.custom_id": "MJ::Settings::VersionSelector",
        "selects.0.selected": ("6.0",),
        "correlation.flags": 64,
    },
    "seed_dm": {"kind": "seed", "job_hash": H, "seed": 3271869524, "correlation.guild_id": None},
    "notice_job_queued": _notice(NoticeKind.JOB_QUEUED, False, severity="warning", prompt=PROMPT),
    "notice_queue_full": _notice(NoticeKind.QUEUE_FULL, True, severity="error", **{"correlation.nonce": NONCE}),
    "notice_banned_prompt": _notice(NoticeKind.BANNED_PROMPT, True, prompt=PROMPT),
    "notice_banned_image_prompt": _notice(NoticeKind.BANNED_IMAGE_PROMPT, True),
    "notice_invalid_parameter": _notice(NoticeKind.INVALID_PARAMETER, True, prompt="a frog --foo 3"),
    "notice_invalid_link": _notice(NoticeKind.INVALID_LINK, True),
    "notice_invalid_request": _notice(NoticeKind.INVALID_REQUEST, True),
    "notice_empty_prompt": _notice(NoticeKind.EMPTY_PROMPT, True, prompt="--ar 2:3"),
    "notice_credits_exhausted": _notice(NoticeKind.CREDITS_EXHAUSTED, True, AccountIssue.FAST_TIME_EXHAUSTED),
    "notice_action_needed_to_continue": _notice(NoticeKind.MODERATION, True, AccountIssue.PENDING_MOD),
    "notice_pending_mod_message": _notice(NoticeKind.PENDING_MOD, True, AccountIssue.PENDING_MOD),
    "notice_action_needed_captcha": _notice(
        NoticeKind.CAPTCHA, True, AccountIssue.CAPTCHA, **{"buttons.0.action": ButtonAction.CAPTCHA}
    ),
    "notice_captcha_action_required": _notice(
        NoticeKind.CAPTCHA, True, AccountIssue.CAPTCHA, **{"buttons.0.action": ButtonAction.CAPTCHA}
    ),
    "notice_please_complete_task": _notice(NoticeKind.CAPTCHA, True, AccountIssue.CAPTCHA),
    "notice_subscription_required": _notice(NoticeKind.SUBSCRIPTION_REQUIRED, True, AccountIssue.SUBSCRIPTION),
    "notice_subscription_paused": _notice(NoticeKind.SUBSCRIPTION_PAUSED, True, AccountIssue.SUBSCRIPTION),
    "notice_plan_cancelled": _notice(NoticeKind.PLAN_CANCELLED, True, AccountIssue.SUBSCRIPTION),
    "notice_blocked": _notice(NoticeKind.BLOCKED, True, AccountIssue.BANNED),
    "notice_job_action_restricted": _notice(NoticeKind.JOB_ACTION_RESTRICTED, True),
    "notice_image_filter": _notice(NoticeKind.IMAGE_FILTER, True, **{"correlation.source": "MESSAGE_UPDATE"}),
    "notice_output_filter": _notice(NoticeKind.OUTPUT_FILTER, True, **{"correlation.source": "MESSAGE_UPDATE"}),
    "notice_could_not_complete": _notice(NoticeKind.COULD_NOT_COMPLETE, True),
    "notice_duplicate_images": _notice(NoticeKind.DUPLICATE_IMAGES, True, prompt=None, footer="/blend"),
    "notice_tos_not_accepted": _notice(NoticeKind.TOS_NOT_ACCEPTED, True, AccountIssue.TOS),
    "notice_unknown_error_embed": _notice(NoticeKind.UNKNOWN_ERROR, True, title="Something unexpected", color=16711680),
    "failed_content": _notice(NoticeKind.FAILED, True, severity="error", **{"correlation.nonce": NONCE}),
    "user_message_not_from_bot": {"kind": "unrecognized", "reason": "not_from_bot", "content": "hello from a human"},
    "interaction_create": {"kind": "interaction_created", "id": IID, "nonce": NONCE},
    "interaction_success": {
        "kind": "interaction_succeeded",
        "id": IID,
        "nonce": NONCE,
        "correlation.interaction_id": IID,
    },
    "interaction_failure_timeout": {"kind": "interaction_failed", "reason_code": 2, "nonce": NONCE},
    "interaction_modal_create_remix": {
        "kind": "modal",
        "id": "1240589162912663000",
        "modal.kind": ModalKind.REMIX,
        "modal.job_hash": H,
        "modal.index": 1,
        "modal.strong": False,
        "modal.text_input_id": "MJ::RemixModal::new_prompt",
        "text_inputs.0.custom_id": "MJ::RemixModal::new_prompt",
        "text_inputs.0.value": PROMPT,
        "correlation.bot": "mj",
        "correlation.job_hash": H,
    },
    "interaction_iframe_modal_create_inpaint": {
        "kind": "iframe_modal",
        "purpose": "inpaint",
        "modal.kind": ModalKind.IFRAME,
        "modal.token": "U3NrOeTDrxe1JF3Xe0zdAtAQ5N4pOjkF",
        "modal_size": 2,
    },
    "interaction_iframe_modal_create_captcha": {"kind": "iframe_modal", "purpose": "captcha"},
}

# Today's bot (issue 8): v7 grammar, ephemeral button jobs, WebP results, edited buttons, Animate, newer Discord fields.
G7 = "5c1e8d2a-9f3b-4e6a-b7c8-0d1e2f3a4b5c"
U7 = "a7d3c9e1-4b2f-4d8a-9c6e-1f2a3b4c5d6e"
V7_GRID_MSG = "1391000000000000001"
V7_U_MSG = "1391000000000000020"
V7_PROMPT = "glass frog on a lily pad, macro photography --ar 1:1 --v 7"
TODAY: dict[str, dict[str, Any]] = {
    "v7_grid_result_webp": {
        "kind": "job_result",
        "action": "imagine",
        "mode": "fast",
        "prompt": V7_PROMPT,
        "images.0.content_type": "image/webp",
        "images.0.width": 2048,
        "images.0.job_hash": G7,
        "buttons.__len__": 9,
        "buttons.4.row": 0,
        "buttons.5.row": 1,
        "correlation.job_hash": G7,
    },
    "v7_grid_buttons_restyled": {
        "kind": "job_result",
        "correlation.source": "MESSAGE_UPDATE",
        "correlation.message_id": V7_GRID_MSG,
        "buttons.0.style": 1,
        "buttons.1.style": 2,
    },
    "button_job_waiting_ephemeral": {
        "kind": "job_started",
        "action": None,  # worded like an imagine: the correlator finds the pressed button
        "button_job": True,
        "prompt": V7_PROMPT,
        "correlation.ephemeral": True,
        "correlation.referenced_message_id": V7_GRID_MSG,
        "correlation.interaction_type": 3,
        "correlation.job_hash": U7,  # from Cancel Job: the only place the new job's uuid shows
        "cancel_button.custom_id": f"MJ::CancelJob::ByJobid::{U7}",
        "cancel_button.style": 4,
    },
    "button_job_progress_ephemeral": {
        "kind": "job_progress",
        "action": None,
        "percent": 46,
        "mode": "fast",
        "preview.filename": f"{U7}_grid_0.webp",
        "preview.width": 512,
        "correlation.job_hash": U7,
        "cancel_button.action": ButtonAction.CANCEL_JOB,
    },
    "v7_upscale_image_1_result": {
        "kind": "job_result",
        "action": "upscale",
        "index": 1,
        "images.0.content_type": "image/png",
        "images.0.width": 1024,
        "images.0.job_hash": U7,
        "correlation.referenced_message_id": V7_GRID_MSG,
        "buttons.__len__": 13,  # the bookmark is noise
        "buttons.11.action": ButtonAction.ANIMATE,
        "buttons.11.parsed.variant": "high",
        "buttons.12.parsed.variant": "low",
        "buttons.12.row": 3,
    },
    "v7_upscale_creative_result": {
        "kind": "job_result",
        "action": "upscale",
        "variant": None,  # "Upscaled by": v7 Upscale (Creative) names no variant
        "buttons.0.label": "Redo Upscale (Subtle)",
        "buttons.0.action": ButtonAction.UPSCALE_SUBTLE,
        "buttons.1.action": ButtonAction.UPSCALE_CREATIVE,
        "buttons.__len__": 4,
    },
    "v7_pan_right_result": {
        "kind": "job_result",
        "action": "pan",
        "direction": "right",
        "prompt": "glass frog on a lily pad, macro photography --v 7 --ar 3:2",
        "images.0.width": 2688,
        "images.0.height": 1792,
        "images.0.content_type": "image/webp",
        "correlation.referenced_message_id": V7_U_MSG,
    },
    "animate_video_result": {
        "kind": "job_result",
        "action": "video",
        "images": (),
        "videos.0.content_type": "video/mp4",
        "videos.0.width": 624,
        "videos.0.job_hash": "e9f8a7b6-c5d4-4e3f-a2b1-c0d9e8f7a6b5",
        "buttons.0.action": ButtonAction.ANIMATE_EXTEND,
        "buttons.__len__": 2,
    },
    "rated_reply": {"kind": "rated", "job_hash": U7, "correlation.job_hash": U7, "correlation.ephemeral": True},
    "v52_upscale_result": {
        "kind": "job_result",
        "action": "upscale",
        "index": 3,
        "buttons.0.action": ButtonAction.VARY_STRONG,
        "buttons.1.action": ButtonAction.VARY_SUBTLE,
        "buttons.__len__": 9,  # no bookmark, no "Web" link button
        "correlation.job_hash": "b52b52b5-2b52-4b52-8b52-0052b52b52b5",
    },
    "v60_upscale_result": {
        "kind": "job_result",
        "prompt": "青い蛙 --v 6.0",
        "buttons.1.emoji": "upscale_1",
        "buttons.4.action": ButtonAction.VARY_REGION,
        "buttons.4.row": 0,
        "buttons.5.row": 1,
        "images.0.job_hash": "60060060-0600-4600-8600-600600600600",  # User__<uuid>.png: no latin slug
    },
    "info_trial_minutes": {
        "kind": "info",
        "info.subscription": "None (Trial)",
        "info.trial": True,
        "info.job_mode": None,
        "info.visibility": "public",
        "info.fast_time_remaining_minutes": 25.0,
        "info.fast_time_remaining_hours": 25 / 60,
        "info.lifetime_images": 3,
        "info.queued_jobs_relax": 0,
    },
    "describe_result_2025": {
        "kind": "describe_result",
        "prompts.__len__": 4,
        "prompts.0": "A translucent glass frog resting on a lily pad, in the style of Tim Flach, macro photography, "
        "emerald and amber tones",
        "prompts.2": "A glass frog with visible organs on a lotus leaf, national geographic style",
        "image.content_type": "image/webp",
        "buttons.0.action": ButtonAction.DESCRIBE_IMAGINE,
    },
}
EXPECTED.update(TODAY)


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def _resolve(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if part == "__len__":
            return len(obj)
        obj = obj[int(part)] if isinstance(obj, tuple | list) else getattr(obj, part)
    return obj


def test_every_fixture_has_expectations() -> None:
    names = {path.stem for path in FIXTURES.glob("*.json")}
    assert names == set(EXPECTED), f"missing: {names - set(EXPECTED)}, stale: {set(EXPECTED) - names}"


def test_fixtures_are_gateway_dispatch_frames() -> None:
    for path in sorted(FIXTURES.glob("*.json")):
        frame = json.loads(path.read_text(encoding="utf-8"))
        assert frame["op"] == 0 and isinstance(frame["t"], str) and isinstance(frame["s"], int), path.name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_parses_to_expected_event(name: str) -> None:
    frame = _load(name)
    event = parse_dispatch(frame["t"], frame["d"])
    for path, expected in EXPECTED[name].items():
        assert _resolve(event, path) == expected, f"{name}: {path}"
    assert event.correlation.source == frame["t"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_json_round_trip(name: str) -> None:
    frame = _load(name)
    event = parse_payload(frame)
    dumped = EVENT_ADAPTER.dump_json(event)
    again: Event = EVENT_ADAPTER.validate_json(dumped)
    assert again == event


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if _load(n)["t"] in ("MESSAGE_CREATE", "MESSAGE_UPDATE")))
def test_rest_message_object_gives_same_event(name: str) -> None:
    """A message fetched over REST (no gateway envelope) parses like its dispatch, with source REST."""
    frame = _load(name)
    via_rest = parse_message(frame["d"])
    via_gateway = parse_dispatch(frame["t"], frame["d"])
    assert via_rest.kind == via_gateway.kind
    assert via_rest.correlation.source == "REST"
    assert via_rest.model_dump(exclude={"correlation"}) == via_gateway.model_dump(exclude={"correlation"})
