"""Classification of Midjourney error and notice embeds by title and colour.

Facts (protocol notes §3.5): detection is by ``embeds[0].title`` plus ``color``; 16711680 = error, 16776960 and
16239475 = warning, 65280 = success (ET; TA comment; NZ). Titles and what peers do with them:
Job queued (wait, TA/BK/HP), Queue full (HJ/BK/HP), Banned prompt (detected) / Banned image prompt (TA/HJ/BK),
Invalid parameter/link/prompt/request, Empty prompt (TA/BK/HJ/ET), Action needed to continue / Pending mod message
(moderation; ET/TA), Action required to continue / Please complete the task (captcha; BK/HJ/TA), Credits exhausted
(TA), Subscription required/paused, Plan Cancelled, Blocked (TA disables the account), Job action restricted (BK/HJ),
Sorry! Could not complete the job! (HJ), Request cancelled due to image/output filters (HJ/TA, as MESSAGE_UPDATE),
Duplicate images detected (ET), Tos not accepted (TA). Other embeds with an error colour, or a title containing
"invalid"/"error"/"denied" (TA), are unknown errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

COLOR_ERROR = 16711680  # 0xFF0000
COLOR_WARNING = 16776960  # 0xFFFF00
COLOR_WARNING_NZ = 16239475  # 0xF7CA73? used by NZ as a warning colour
COLOR_SUCCESS = 65280  # 0x00FF00

Severity = Literal["error", "warning", "info"]


class NoticeKind(StrEnum):
    JOB_QUEUED = "job_queued"
    QUEUE_FULL = "queue_full"
    BANNED_PROMPT = "banned_prompt"
    BANNED_IMAGE_PROMPT = "banned_image_prompt"
    INVALID_PARAMETER = "invalid_parameter"
    INVALID_LINK = "invalid_link"
    INVALID_PROMPT = "invalid_prompt"
    INVALID_REQUEST = "invalid_request"
    EMPTY_PROMPT = "empty_prompt"
    CREDITS_EXHAUSTED = "credits_exhausted"
    MODERATION = "moderation"  # "Action needed to continue"
    PENDING_MOD = "pending_mod"  # "Pending mod message"
    CAPTCHA = "captcha"  # "Action required to continue" / "Please complete the task"
    SUBSCRIPTION_REQUIRED = "subscription_required"
    SUBSCRIPTION_PAUSED = "subscription_paused"
    PLAN_CANCELLED = "plan_cancelled"
    BLOCKED = "blocked"
    JOB_ACTION_RESTRICTED = "job_action_restricted"
    IMAGE_FILTER = "image_filter"
    OUTPUT_FILTER = "output_filter"
    COULD_NOT_COMPLETE = "could_not_complete"
    DUPLICATE_IMAGES = "duplicate_images"
    TOS_NOT_ACCEPTED = "tos_not_accepted"
    FAILED = "failed"  # content starting "Failed" (NZ ErrorMessageHandler)
    UNKNOWN_ERROR = "unknown_error"
    UNKNOWN_WARNING = "unknown_warning"


class AccountIssue(StrEnum):
    """Why an account should leave the rotation (issue 4: account health from events)."""

    CAPTCHA = "captcha"
    PENDING_MOD = "pending_mod"
    BANNED = "banned"
    SUBSCRIPTION = "subscription"
    FAST_TIME_EXHAUSTED = "fast_time_exhausted"
    TOS = "tos"


@dataclass(frozen=True, slots=True)
class NoticeRule:
    kind: NoticeKind
    fails_job: bool
    account_issue: AccountIssue | None = None


# Title fragments (lower-cased, matched with ``in``), most specific first.
_TITLE_RULES: tuple[tuple[str, NoticeRule], ...] = (
    ("job queued", NoticeRule(NoticeKind.JOB_QUEUED, fails_job=False)),
    ("queue full", NoticeRule(NoticeKind.QUEUE_FULL, fails_job=True)),
    ("banned image prompt", NoticeRule(NoticeKind.BANNED_IMAGE_PROMPT, fails_job=True)),
    ("banned prompt", NoticeRule(NoticeKind.BANNED_PROMPT, fails_job=True)),
    ("invalid parameter", NoticeRule(NoticeKind.INVALID_PARAMETER, fails_job=True)),
    ("invalid link", NoticeRule(NoticeKind.INVALID_LINK, fails_job=True)),
    ("invalid prompt", NoticeRule(NoticeKind.INVALID_PROMPT, fails_job=True)),
    ("invalid request", NoticeRule(NoticeKind.INVALID_REQUEST, fails_job=True)),
    ("empty prompt", NoticeRule(NoticeKind.EMPTY_PROMPT, fails_job=True)),
    ("credits exhausted", NoticeRule(NoticeKind.CREDITS_EXHAUSTED, True, AccountIssue.FAST_TIME_EXHAUSTED)),
    ("action needed to continue", NoticeRule(NoticeKind.MODERATION, True, AccountIssue.PENDING_MOD)),
    ("pending mod message", NoticeRule(NoticeKind.PENDING_MOD, True, AccountIssue.PENDING_MOD)),
    ("action required to continue", NoticeRule(NoticeKind.CAPTCHA, True, AccountIssue.CAPTCHA)),
    ("please complete the task", NoticeRule(NoticeKind.CAPTCHA, True, AccountIssue.CAPTCHA)),
    ("subscription required", NoticeRule(NoticeKind.SUBSCRIPTION_REQUIRED, True, AccountIssue.SUBSCRIPTION)),
    ("subscription paused", NoticeRule(NoticeKind.SUBSCRIPTION_PAUSED, True, AccountIssue.SUBSCRIPTION)),
    ("plan cancelled", NoticeRule(NoticeKind.PLAN_CANCELLED, True, AccountIssue.SUBSCRIPTION)),
    ("plan canceled", NoticeRule(NoticeKind.PLAN_CANCELLED, True, AccountIssue.SUBSCRIPTION)),
    ("blocked", NoticeRule(NoticeKind.BLOCKED, True, AccountIssue.BANNED)),
    ("job action restricted", NoticeRule(NoticeKind.JOB_ACTION_RESTRICTED, fails_job=True)),
    ("due to image filters", NoticeRule(NoticeKind.IMAGE_FILTER, fails_job=True)),
    ("due to output filters", NoticeRule(NoticeKind.OUTPUT_FILTER, fails_job=True)),
    ("could not complete the job", NoticeRule(NoticeKind.COULD_NOT_COMPLETE, fails_job=True)),
    ("duplicate images detected", NoticeRule(NoticeKind.DUPLICATE_IMAGES, fails_job=True)),
    ("tos not accepted", NoticeRule(NoticeKind.TOS_NOT_ACCEPTED, True, AccountIssue.TOS)),
)

_ERROR_WORDS = ("invalid", "error", "denied")


def severity_of(color: int | None) -> Severity:
    if color == COLOR_ERROR:
        return "error"
    if color in (COLOR_WARNING, COLOR_WARNING_NZ):
        return "warning"
    return "info"


def classify_title(title: str | None, color: int | None) -> NoticeRule | None:
    """The rule for an embed title/colour, or ``None`` when the embed is not a notice."""
    lowered = (title or "").strip().lower()
    for fragment, rule in _TITLE_RULES:
        if fragment in lowered:
            return rule
    if color == COLOR_ERROR or any(word in lowered for word in _ERROR_WORDS):
        return NoticeRule(NoticeKind.UNKNOWN_ERROR, fails_job=True)
    if color in (COLOR_WARNING, COLOR_WARNING_NZ):
        return NoticeRule(NoticeKind.UNKNOWN_WARNING, fails_job=False)
    return None


FAILED_CONTENT_RULE = NoticeRule(NoticeKind.FAILED, fails_job=True)
