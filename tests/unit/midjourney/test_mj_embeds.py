"""Embed readers (numbered prompts, /info, footers) and notice classification by title and colour."""

from __future__ import annotations

import pytest

from mjapi.midjourney.embeds import (
    footer_prompt,
    info_fields,
    numbered_prompts,
    paragraph_prompts,
    parse_info,
    unwrap_links,
)
from mjapi.midjourney.notices import (
    COLOR_ERROR,
    COLOR_SUCCESS,
    COLOR_WARNING,
    COLOR_WARNING_NZ,
    AccountIssue,
    NoticeKind,
    classify_title,
    severity_of,
)

INFO_SAMPLE = (
    "**Subscription**: Pro (Active yearly, renews next on <t:1735689600>)\n**Job Mode**: Relaxed\n"
    "**Visibility Mode**: Public\n**Fast Time Remaining**: 0.12/15.0 hours (0.80%)\n"
    "**Lifetime Usage**: 102 images (1.77 hours)\n**Relaxed Usage**: 19 images (0.29 hours)\n\n"
    "**Queued Jobs (fast)**: 1\n**Queued Jobs (relax)**: 0\n"
    "**Running Jobs**: 350fb24a-dd72-45f2-ade8-048379a2ed5a, 8f2c6a0e-3b1d-4c57-9e6f-2d4b7a1c9e30"
)


def test_parse_info_every_field() -> None:
    info = parse_info(INFO_SAMPLE)
    assert info.subscription == "Pro (Active yearly, renews next on <t:1735689600>)"
    assert info.job_mode == "relax"
    assert info.visibility == "public"
    assert (info.fast_time_remaining_hours, info.fast_time_total_hours) == (0.12, 15.0)
    assert info.fast_time_remaining_percent == 0.8
    assert (info.lifetime_images, info.lifetime_hours) == (102, 1.77)
    assert (info.relaxed_images, info.relaxed_hours) == (19, 0.29)
    assert (info.queued_jobs_fast, info.queued_jobs_relax) == (1, 0)
    assert info.running_jobs == ("350fb24a-dd72-45f2-ade8-048379a2ed5a", "8f2c6a0e-3b1d-4c57-9e6f-2d4b7a1c9e30")
    assert len(info.fields) == 9


def test_parse_info_tolerates_drift() -> None:
    info = parse_info("Job Mode: Turbo\n**Fast Time Remaining**: unlimited\nnot a field line\n**New Key**: 7")
    assert info.job_mode == "turbo"
    assert info.fast_time_remaining_hours is None
    assert info.fields["New Key"] == "7"
    assert parse_info(None).fields == {}
    assert parse_info("**Lifetime Usage**: 99999999999999999999999999 images").lifetime_images is not None


def test_info_fields_keeps_values_verbatim() -> None:
    assert info_fields("**Running Jobs**: None") == {"Running Jobs": "None"}
    assert parse_info("**Running Jobs**: None").running_jobs == ()


def test_numbered_prompts() -> None:
    text = "1️⃣ first prompt\n\n2️⃣ second, with --ar 3:2\n\n3\u20e3 no variation selector\n\n4️⃣ last"
    assert numbered_prompts(text) == ("first prompt", "second, with --ar 3:2", "no variation selector", "last")
    assert numbered_prompts("**IMPORTANT TOKENS**\nx\n\n**SHORTENED PROMPTS**\n1️⃣ a\n\n2️⃣ b") == ("a", "b")
    assert numbered_prompts("no numbers") == ()
    assert numbered_prompts(None) == ()


def test_footer_prompt() -> None:
    assert footer_prompt("/imagine a frog --ar 2:3") == "a frog --ar 2:3"
    assert footer_prompt("/blend") is None
    assert footer_prompt("/imagine ") is None
    assert footer_prompt(None) is None


@pytest.mark.parametrize(
    ("title", "color", "kind", "fails", "issue"),
    [
        ("Job queued", COLOR_WARNING, NoticeKind.JOB_QUEUED, False, None),
        ("Queue full", COLOR_ERROR, NoticeKind.QUEUE_FULL, True, None),
        ("Banned prompt detected", COLOR_ERROR, NoticeKind.BANNED_PROMPT, True, None),
        ("Banned prompt", COLOR_ERROR, NoticeKind.BANNED_PROMPT, True, None),
        ("Banned image prompt", COLOR_ERROR, NoticeKind.BANNED_IMAGE_PROMPT, True, None),
        ("Invalid parameter", COLOR_ERROR, NoticeKind.INVALID_PARAMETER, True, None),
        ("Invalid link", COLOR_ERROR, NoticeKind.INVALID_LINK, True, None),
        ("Invalid prompt", COLOR_ERROR, NoticeKind.INVALID_PROMPT, True, None),
        ("Invalid request", COLOR_ERROR, NoticeKind.INVALID_REQUEST, True, None),
        ("Empty prompt", COLOR_ERROR, NoticeKind.EMPTY_PROMPT, True, None),
        ("Credits exhausted", COLOR_ERROR, NoticeKind.CREDITS_EXHAUSTED, True, AccountIssue.FAST_TIME_EXHAUSTED),
        ("Action needed to continue", COLOR_ERROR, NoticeKind.MODERATION, True, AccountIssue.PENDING_MOD),
        ("Pending mod message", COLOR_ERROR, NoticeKind.PENDING_MOD, True, AccountIssue.PENDING_MOD),
        ("Action required to continue", None, NoticeKind.CAPTCHA, True, AccountIssue.CAPTCHA),
        ("Please complete the task", None, NoticeKind.CAPTCHA, True, AccountIssue.CAPTCHA),
        ("Subscription required", None, NoticeKind.SUBSCRIPTION_REQUIRED, True, AccountIssue.SUBSCRIPTION),
        ("Subscription paused", None, NoticeKind.SUBSCRIPTION_PAUSED, True, AccountIssue.SUBSCRIPTION),
        ("Plan Cancelled", None, NoticeKind.PLAN_CANCELLED, True, AccountIssue.SUBSCRIPTION),
        ("Blocked", None, NoticeKind.BLOCKED, True, AccountIssue.BANNED),
        ("Job action restricted", None, NoticeKind.JOB_ACTION_RESTRICTED, True, None),
        ("Request cancelled due to image filters", None, NoticeKind.IMAGE_FILTER, True, None),
        ("Request cancelled due to output filters", None, NoticeKind.OUTPUT_FILTER, True, None),
        ("Sorry! Could not complete the job!", None, NoticeKind.COULD_NOT_COMPLETE, True, None),
        ("Duplicate images detected", None, NoticeKind.DUPLICATE_IMAGES, True, None),
        ("Tos not accepted", None, NoticeKind.TOS_NOT_ACCEPTED, True, AccountIssue.TOS),
        ("Something else", COLOR_ERROR, NoticeKind.UNKNOWN_ERROR, True, None),
        ("Permission denied", 0, NoticeKind.UNKNOWN_ERROR, True, None),
        ("Heads up", COLOR_WARNING_NZ, NoticeKind.UNKNOWN_WARNING, False, None),
    ],
)
def test_classify_title(
    title: str, color: int | None, kind: NoticeKind, fails: bool, issue: AccountIssue | None
) -> None:
    rule = classify_title(title, color)
    assert rule is not None
    assert (rule.kind, rule.fails_job, rule.account_issue) == (kind, fails, issue)


def test_plain_embeds_are_not_notices() -> None:
    assert classify_title("Your info - frogfan", 0) is None
    assert classify_title(None, COLOR_SUCCESS) is None
    assert classify_title("", None) is None


def test_severity() -> None:
    assert severity_of(COLOR_ERROR) == "error"
    assert severity_of(COLOR_WARNING) == "warning"
    assert severity_of(COLOR_WARNING_NZ) == "warning"
    assert severity_of(COLOR_SUCCESS) == "info"


@pytest.mark.parametrize(
    "line",
    [
        "**Fast Time Remaining**:    25.00 minutes",
        "**Fast Time Remaining**:\u2800\u2800\u280025.00 minutes",  # braille blanks as column padding
        "Fast Time Remaining:\u3000 25.00 minutes",
        "**Fast Time Remaining:**   25.00 minutes",
    ],
)
def test_trial_minutes_in_a_padded_column(line: str) -> None:
    info = parse_info("**Subscription**:\u2800\u2800None (Trial)\n" + line)
    assert info.subscription == "None (Trial)" and info.trial
    assert info.job_mode is None  # a trial has no Job Mode line
    assert info.fast_time_remaining_minutes == 25.0
    assert info.fast_time_remaining_hours == pytest.approx(25 / 60)
    assert info.fast_time_total_hours is None


def test_fast_time_in_other_units() -> None:
    assert parse_info("**Fast Time Remaining**: 12/60 minutes (20%)").fast_time_total_hours == pytest.approx(1.0)
    hours_only = parse_info("**Fast Time Remaining**: 3.5 hours")
    assert (hours_only.fast_time_remaining_hours, hours_only.fast_time_remaining_minutes) == (3.5, None)
    assert not parse_info(INFO_SAMPLE).trial


def test_2025_describe_prompts() -> None:
    """No trailing --ar, markdown links, separated by " \\n\\n": links unwrapped, nothing lost or merged."""
    text = (
        "1️⃣ A frog in the style of [Tim Flach](<https://google.com/search?q=Tim+Flach>), macro \n\n"
        "2️⃣ A leaf, [national geographic](https://google.com/search?q=ng) style \n\n"
        "3️⃣ Dewdrops on glass \n\n"
        "4️⃣ An emerald pond "
    )
    assert numbered_prompts(text) == (
        "A frog in the style of Tim Flach, macro",
        "A leaf, national geographic style",
        "Dewdrops on glass",
        "An emerald pond",
    )
    unnumbered = text.replace("1️⃣ ", "").replace("2️⃣ ", "").replace("3️⃣ ", "").replace("4️⃣ ", "")
    assert numbered_prompts(unnumbered) == ()
    assert paragraph_prompts(unnumbered) == numbered_prompts(text)
    assert paragraph_prompts(None) == () and paragraph_prompts(" \n\n ") == ()
    assert unwrap_links("[a](<b>) and [c](d) but [no link] (x)") == "a and c but [no link] (x)"
