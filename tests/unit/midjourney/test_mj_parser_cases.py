"""Parser behaviour beyond the fixtures: correlation sources, author filtering, noise, drift."""

from __future__ import annotations

from typing import Any

from mjapi.midjourney import parse_dispatch, parse_message, parse_payload
from mjapi.midjourney.actions import ButtonAction, JobAction
from mjapi.midjourney.constants import MIDJOURNEY_APPLICATION_ID, NIJI_APPLICATION_ID
from mjapi.midjourney.models import (
    DescribeResult,
    JobProgress,
    JobResult,
    JobStarted,
    Notice,
    Rated,
    SettingsResult,
    Unrecognized,
)

H = "350fb24a-dd72-45f2-ade8-048379a2ed5a"
U = "1097074882203303911"


def _msg(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "1001",
        "channel_id": "2002",
        "author": {"id": MIDJOURNEY_APPLICATION_ID, "bot": True},
        "content": f"**a frog** - <@{U}> (fast)",
        "attachments": [{"id": "1", "url": f"https://cdn.discordapp.com/attachments/2/1/u_a_frog_{H}.png"}],
    }
    base.update(fields)
    return base


def test_interaction_without_metadata_and_metadata_user_id() -> None:
    legacy = parse_message(_msg(interaction={"id": "77", "name": "imagine", "user": {"id": U}}))
    assert (legacy.correlation.interaction_id, legacy.correlation.interaction_name) == ("77", "imagine")
    modern = parse_message(_msg(interaction_metadata={"id": "78", "type": 2, "user_id": "55", "name": "imagine"}))
    assert (modern.correlation.interaction_id, modern.correlation.user_id) == ("78", "55")


def test_user_id_falls_back_to_the_mention() -> None:
    assert parse_message(_msg()).correlation.user_id == U


def test_referenced_message_without_reference_block() -> None:
    event = parse_message(_msg(referenced_message={"id": "999"}))
    assert event.correlation.referenced_message_id == "999"


def test_author_filtering_and_custom_bot_ids() -> None:
    human = parse_message(_msg(author={"id": U}))
    assert isinstance(human, Unrecognized) and human.reason == "not_from_bot"
    simulator_bot = parse_message(_msg(author={"id": "42"}), bot_ids=frozenset({"42"}))
    assert isinstance(simulator_bot, JobResult)
    partial_update = parse_message(_msg(author=None), source="MESSAGE_UPDATE")  # updates may omit the author
    assert isinstance(partial_update, JobResult)


def test_bot_kind_from_author_when_application_id_missing() -> None:
    assert parse_message(_msg(author={"id": NIJI_APPLICATION_ID})).correlation.bot == "niji"
    assert parse_message(_msg(author=None)).correlation.bot is None


def test_snowflakes_sent_as_numbers_are_text() -> None:
    event = parse_message(_msg(id=1001, channel_id=2002, nonce=3003, flags="64"))
    assert (event.correlation.message_id, event.correlation.channel_id, event.correlation.nonce) == (
        "1001",
        "2002",
        "3003",
    )
    assert event.correlation.flags == 64 and event.correlation.ephemeral


def test_rating_and_bookmark_buttons_are_dropped() -> None:
    rows = [
        {
            "type": 1,
            "components": [
                {"type": 2, "custom_id": f"MJ::JOB::upsample::1::{H}", "label": "U1", "style": 2},
                {"type": 2, "custom_id": f"MJ::BOOKMARK::{H}", "emoji": {"name": "❤️"}, "style": 2},
                {"type": 2, "custom_id": f"MJ::JOB::upsample::1::{H}::RATING::3", "style": 2},
                {"type": 2, "style": 5, "url": "https://midjourney.com/jobs/x", "label": "Web"},
                "garbage",
            ],
        },
        {"type": 1, "components": "not a list"},
    ]
    event = parse_message(_msg(components=rows))
    assert isinstance(event, JobResult)
    assert [b.action for b in event.buttons] == [ButtonAction.UPSAMPLE]


def test_job_line_without_image_is_progress_not_a_result() -> None:
    event = parse_message(_msg(attachments=[]), source="MESSAGE_UPDATE")
    assert isinstance(event, JobProgress) and event.percent is None and event.preview is None


def test_identical_prompts_keep_distinct_keys() -> None:
    first = parse_message(_msg(id="1", nonce="11", content=f"**same** - <@{U}> (Waiting to start)"))
    second = parse_message(_msg(id="2", nonce="22", content=f"**same** - <@{U}> (Waiting to start)"))
    assert isinstance(first, JobStarted) and isinstance(second, JobStarted)
    assert (first.correlation.nonce, first.correlation.message_id) != (
        second.correlation.nonce,
        second.correlation.message_id,
    )


def test_video_interim_and_unknown_contents() -> None:
    event = parse_message(_msg(content="Displaying...", attachments=[]))
    assert isinstance(event, Unrecognized) and event.reason == "unknown_message" and event.content == "Displaying..."
    empty = parse_message(_msg(content="", attachments=[]))
    assert isinstance(empty, Unrecognized) and empty.content is None


def test_animate_grid_is_a_video_result_and_its_u_buttons_are_video_upscales() -> None:
    """Animate's result is one animated WebP of four videos, worded like an imagine: `--video` in its prompt makes
    it a video result (what the pressed Animate produces), and U1-U4 under it are video_virtual_upscale."""
    line = f"**a frog --motion high --video 1 --aspect 1:1** - <@{U}> (fast)"
    rows = [
        {
            "type": 1,
            "components": [
                *(
                    {"type": 2, "custom_id": f"MJ::JOB::video_virtual_upscale::{i}::{H}", "label": f"U{i}"}
                    for i in range(1, 5)
                ),
                {"type": 2, "custom_id": f"MJ::JOB::reroll::0::{H}::SOLO", "emoji": {"name": "🔄"}},
            ],
        }
    ]
    sheet = {"id": "1", "url": f"https://cdn.discordapp.com/attachments/2/1/u_a_frog_{H}.webp"}
    grid = parse_message(_msg(content=line, attachments=[{**sheet, "content_type": "image/webp"}], components=rows))
    assert isinstance(grid, JobResult) and grid.action is JobAction.VIDEO and not grid.videos
    assert [b.action for b in grid.buttons] == [ButtonAction.VIDEO_UPSCALE] * 4 + [ButtonAction.REROLL]
    assert [b.parsed.index for b in grid.buttons[:4]] == [1, 2, 3, 4]
    still = parse_message(_msg(content=line.replace("--video 1 ", ""), attachments=[sheet], components=rows))
    assert isinstance(still, JobResult) and still.action is JobAction.IMAGINE  # no --video: an image grid
    running = parse_message(_msg(content=line.replace("(fast)", "(31%) (fast)"), attachments=[sheet]))
    assert isinstance(running, JobProgress)


def test_notice_keeps_its_buttons_and_prompt() -> None:
    embed = {"title": "Action needed to continue", "color": 16711680, "footer": {"text": "/imagine x y"}}
    rows = [{"type": 1, "components": [{"type": 2, "custom_id": "MJ::Appeal::1", "label": "Appeal"}]}]
    event = parse_message(_msg(content="", attachments=[], embeds=[embed], components=rows))
    assert isinstance(event, Notice)
    assert event.prompt == "x y" and event.buttons[0].label == "Appeal" and event.severity == "error"


def test_settings_detected_from_buttons_alone() -> None:
    rows = [
        {
            "type": 1,
            "components": [{"type": 2, "custom_id": "MJ::Settings::RemixMode", "label": "Remix mode", "style": 2}],
        }
    ]
    event = parse_message(_msg(content="Adjust your settings here.", attachments=[], components=rows))
    assert isinstance(event, SettingsResult)
    assert event.remix is False and event.enabled == ()


def test_payload_shapes() -> None:
    assert isinstance(parse_payload({"op": 11, "t": None, "d": None}), Unrecognized)
    hello = parse_payload({"op": 10, "t": None, "s": None, "d": {"heartbeat_interval": 41250}})
    assert isinstance(hello, Unrecognized) and hello.reason == "not_a_dispatch"
    ready = parse_payload({"op": 0, "t": "READY", "s": 1, "d": {"session_id": "x"}})
    assert isinstance(ready, Unrecognized) and ready.reason == "unhandled_dispatch"
    bare = parse_payload({"t": "MESSAGE_CREATE", "d": _msg()})
    assert isinstance(bare, JobResult)
    assert parse_dispatch("MESSAGE_DELETE", None).kind == "message_deleted"


def test_error_embeds_win_over_the_command_they_answer() -> None:
    """An "Invalid link" answering /describe, or "Subscription required" answering /info, is a notice."""
    for name, title in (("describe", "Invalid link"), ("info", "Subscription required"), ("shorten", "Banned prompt")):
        embed = {"title": title, "description": "**Why**: because", "color": 16711680}
        meta = {"id": "9", "name": name, "type": 2}
        event = parse_message(_msg(content="", attachments=[], embeds=[embed], interaction_metadata=meta))
        assert isinstance(event, Notice), name
    unknown = {"title": "Something odd", "description": "1️⃣ a", "color": 16711680}
    meta = {"id": "9", "name": "describe", "type": 2}
    assert parse_message(_msg(content="", attachments=[], embeds=[unknown], interaction_metadata=meta)).kind == (
        "describe_result"
    )


# -- today's bot (issue 8) ---------------------------------------------------------------------------------------

NEW = "a7d3c9e1-4b2f-4d8a-9c6e-1f2a3b4c5d6e"
CANCEL_ROW = [
    {"type": 1, "id": 1, "components": [{"type": 2, "id": 2, "style": 4, "label": "Cancel Job",
                                         "custom_id": f"MJ::CancelJob::ByJobid::{NEW}"}]}
]  # fmt: skip


def _waiting(**fields: Any) -> dict[str, Any]:
    return _msg(content=f"**a frog --v 7** - <@{U}> (Waiting to start)", attachments=[], **fields)


def test_a_button_jobs_ephemeral_message_is_not_an_imagine() -> None:
    replying = parse_message(
        _waiting(type=19, flags=64, components=CANCEL_ROW, message_reference={"message_id": "900"}),
        source="MESSAGE_CREATE",
    )
    assert isinstance(replying, JobStarted)
    assert replying.action is None and replying.button_job
    assert replying.correlation.referenced_message_id == "900" and replying.correlation.job_hash == NEW
    assert replying.cancel_button is not None and replying.cancel_button.action is ButtonAction.CANCEL_JOB
    # only interaction_metadata says which message the button was on
    meta = {"id": "77", "type": 3, "user": {"id": U}, "interacted_message_id": "901"}
    by_metadata = parse_message(_waiting(flags=64, components=CANCEL_ROW, interaction_metadata=meta))
    assert isinstance(by_metadata, JobStarted) and by_metadata.action is None
    assert (by_metadata.correlation.referenced_message_id, by_metadata.correlation.interaction_type) == ("901", 3)
    # ephemeral with Cancel Job and nothing else
    bare = parse_message(_waiting(flags=64, components=CANCEL_ROW))
    assert isinstance(bare, JobStarted) and bare.action is None


def test_imagine_lines_that_are_imagines_stay_imagines() -> None:
    own = parse_message(_waiting(components=CANCEL_ROW))  # public, no reference: the imagine's own message
    assert isinstance(own, JobStarted) and own.action is JobAction.IMAGINE and not own.button_job
    reroll = parse_message(_msg(message_reference={"message_id": "900"}))  # a finished imagine-worded reply
    assert isinstance(reroll, JobResult) and reroll.action is JobAction.IMAGINE
    legacy = parse_message(
        _msg(
            content=f"Upscaling image #2 with **a frog** - <@{U}> (Waiting to start)",
            attachments=[],
            message_reference={"message_id": "900"},
        )
    )
    assert isinstance(legacy, JobStarted) and legacy.action is JobAction.UPSCALE and legacy.index == 2


def test_video_attachments_make_a_video_result() -> None:
    mp4 = {"id": "5", "url": f"https://cdn.discordapp.com/attachments/2/1/u1_a_frog_{NEW}_0.mp4?ex=1&"}
    untyped = parse_message(_msg(attachments=[mp4], message_reference={"message_id": "900"}))
    assert isinstance(untyped, JobResult) and untyped.action is JobAction.VIDEO
    assert untyped.images == () and untyped.videos[0].job_hash == NEW and untyped.videos[0].is_video
    thumb = {"id": "6", "url": "https://cdn.discordapp.com/attachments/2/1/a.webp", "content_type": "image/webp"}
    typed = {"id": "7", "url": "https://cdn.discordapp.com/attachments/2/1/clip", "content_type": "video/mp4"}
    both = parse_message(_msg(attachments=[thumb, typed]))
    assert isinstance(both, JobResult) and both.action is JobAction.VIDEO
    assert [i.url.rsplit("/", 1)[-1] for i in both.images] == ["a.webp"] and len(both.videos) == 1
    running = parse_message(_msg(content=f"**a frog** - <@{U}> (40%) (fast)", attachments=[typed]))
    assert isinstance(running, JobProgress) and running.action is JobAction.IMAGINE


def test_newer_discord_fields_are_tolerated() -> None:
    """Component ids, ``resolved``, attachment placeholders, author flags and clan, components-v2 containers."""
    rows = [
        {
            "type": 17,
            "id": 1,
            "accent_color": None,
            "components": [
                {"type": 10, "id": 2, "content": "text display"},
                {"type": 1, "id": 3, "components": [{"type": 2, "id": 4, "style": 2, "label": "U1",
                                                     "custom_id": f"MJ::JOB::upsample::1::{H}"}]},
            ],
        }
    ]  # fmt: skip
    attachment = {
        "id": "1",
        "url": f"https://cdn.discordapp.com/attachments/2/1/u_a_frog_{H}.webp",
        "placeholder": "XwgKFYJ4iIeAeHeId4eIiHeAeA==",
        "placeholder_version": 1,
        "flags": 0,
        "content_type": "image/webp",
    }
    author = {"id": MIDJOURNEY_APPLICATION_ID, "bot": True, "flags": 589824, "clan": None, "primary_guild": None}
    event = parse_message(
        _msg(author=author, attachments=[attachment], components=rows, resolved={"users": {}, "members": {}})
    )
    assert isinstance(event, JobResult)
    assert [b.label for b in event.buttons] == ["U1"] and event.images[0].content_type == "image/webp"


def test_the_rated_reply_is_not_a_result() -> None:
    event = parse_message(
        _msg(
            content=f"You have successfully rated [this job](<https://midjourney.com/jobs/{H}>) with 😍",
            attachments=[],
            flags=64,
            message_reference={"message_id": "900"},
        )
    )
    assert isinstance(event, Rated) and event.job_hash == H and event.correlation.referenced_message_id == "900"


def test_unnumbered_describe_prompts_under_describe_buttons() -> None:
    rows = [{"type": 1, "components": [{"type": 2, "custom_id": f"MJ::Job::PicReader::{n}", "label": str(n)}
                                       for n in (1, 2)]}]  # fmt: skip
    embed = {
        "description": "A frog on a [leaf](<https://x.test/l>) \n\nA pond at dawn ",
        "image": {"url": "https://cdn.discordapp.com/ephemeral-attachments/1092492867185950852/5/frog.png"},
    }
    event = parse_message(_msg(content="", attachments=[], embeds=[embed], components=rows))
    assert isinstance(event, DescribeResult) and event.prompts == ("A frog on a leaf", "A pond at dawn")
    assert event.image is not None and "/ephemeral-attachments/" in event.image.url
