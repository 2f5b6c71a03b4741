"""Today's bot (issue 8) through the parser and the applier, against moto and a loopback CDN serving real WebP, PNG
and H.264 mp4 bytes: ephemeral button jobs found by their Cancel Job uuid, WebP grids and PNG upscales kept as they
are, a pan's rewritten prompt, pressed buttons restyled by edits, v7 Upscale (Creative), Animate's video stored and
shown, the ❤️ reply ignored, trial /info minutes, 2025 describe, cancelling with the Cancel Job button."""

from __future__ import annotations

import functools
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import av
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage

from mjapi import aws
from mjapi.api.proxy_views import task_view
from mjapi.api.views import job_view
from mjapi.clock import now_ms
from mjapi.ids import new_job_id
from mjapi.images import InvalidVideo, inspect_image, inspect_video
from mjapi.midjourney import parse_dispatch
from mjapi.midjourney.actions import SPECS, ButtonAction
from mjapi.models import Job, JobKind, JobStatus
from mjapi.secrets import clear_secrets_cache, get_secrets
from mjapi.service import commands
from mjapi.service.buttons import press
from mjapi.service.context import Context
from mjapi.service.follow_ups import child_job
from mjapi.service.submitter import Submitter
from mjapi.settings import get_settings
from mjapi.store.accounts import get_account, set_session, sync_accounts
from mjapi.store.jobs import JobStore
from mjapi.store.table import Table
from mjapi.store.tokens import create_token, get_token
from mjapi.tracking import image_copy
from mjapi.tracking.applier import EventApplier, Outcome
from mjapi.tracking.image_copy import ImageCopier
from tests.support import dispatches

CHANNEL = "1069126859100524575"
USER = "1097074882203303911"
PROMPT = "glass frog on a lily pad, macro photography --ar 1:1 --v 7"
G7 = "5c1e8d2a-9f3b-4e6a-b7c8-0d1e2f3a4b5c"
U7 = "a7d3c9e1-4b2f-4d8a-9c6e-1f2a3b4c5d6e"
V7 = "e9f8a7b6-c5d4-4e3f-a2b1-c0d9e8f7a6b5"
OTHER = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
VIDEO_SIZE = (96, 64)


# -- a loopback CDN: the file type follows the name, the size the query (?w=&h=) -------------------------------------


@functools.cache
def mp4_bytes(width: int, height: int) -> bytes:
    """A real H.264 mp4 of a few frames (PyAV, as the simulator makes them)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for index in range(4):
            frame = av.VideoFrame.from_image(PILImage.new("RGB", (width, height), (40 * index, 90, 160)))
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def image_bytes(path: str, fmt: str, size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    options = {"method": 0} if fmt == "WEBP" else {"compress_level": 1}
    PILImage.new("RGB", size, (len(path) % 255, 120, 60)).save(out, format=fmt, **options)
    return out.getvalue()


class _Handler(BaseHTTPRequestHandler):
    server: _Cdn

    def do_GET(self) -> None:
        split = urlsplit(self.path)
        query = {k: int(v[0]) for k, v in parse_qs(split.query).items() if k in ("w", "h") and v[0].isdigit()}
        size = (query.get("w", 64), query.get("h", 64))
        if split.path.endswith(".mp4"):
            body, ctype = mp4_bytes(*VIDEO_SIZE), "video/mp4"
        elif split.path.endswith(".webp"):
            body, ctype = image_bytes(split.path, "WEBP", size), "image/webp"
        else:
            body, ctype = image_bytes(split.path, "PNG", size), "image/png"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return


class _Cdn(ThreadingHTTPServer):
    daemon_threads = True


class _Discord(ThreadingHTTPServer):
    """Discord's REST API as far as a button click goes: ``POST /interactions`` answers 204 and is recorded."""

    daemon_threads = True
    posted: list[dict[str, Any]]


class _DiscordHandler(BaseHTTPRequestHandler):
    server: _Discord

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if self.path.endswith("/interactions"):
            self.server.posted.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return


@dataclass
class World:
    table: Table
    jobs: JobStore
    applier: EventApplier
    cdn: str
    token_hash: str

    def job(self, nonce: str, *, kind: JobKind = JobKind.IMAGINE, prompt: str = PROMPT, **extra: Any) -> Job:
        now = now_ms()
        job = Job(
            id=new_job_id(),
            kind=kind,
            status=JobStatus.SUBMITTED,
            token_hash=self.token_hash,
            prompt=prompt,
            account_id="a1",
            channel_id=CHANNEL,
            nonce=nonce,
            holds_slot=True,
            created_at=now,
            submitted_at=now,
            **extra,
        )
        self.jobs.create_running(job, charge=True, mode=None)
        return job

    def press(self, parent: Job, custom_id: str, nonce: str) -> Job:
        """A button pressed on ``parent``'s result (as service.follow_ups builds it), running on the account."""
        child = child_job(self.get(parent), custom_id, job_id=new_job_id())
        child = child.model_copy(
            update={"status": JobStatus.SUBMITTED, "nonce": nonce, "holds_slot": True, "submitted_at": now_ms()}
        )
        self.jobs.create_running(child, charge=True, mode=None)
        self.jobs.add_child(parent.id, child.id)
        return child

    def feed(self, t: str, d: dict[str, Any]) -> Outcome:
        return self.applier.apply("a1", parse_dispatch(t, d))

    def message(self, name: str, *, message_id: str, size: tuple[int, int] | None = None, **keys: Any) -> Any:
        t, d = dispatches.message(name, message_id=message_id, channel_id=CHANNEL, cdn=self.cdn, **keys)
        for attachment in d.get("attachments", []):
            if size is not None:
                attachment["url"] += f"&w={size[0]}&h={size[1]}"
        return t, d

    def get(self, job: Job) -> Job:
        found = self.jobs.get(job.id)
        assert found is not None
        return found


@pytest.fixture
def world(table: Table, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    secrets = {"accounts": [{"id": "a1", "token": "t1", "channel_id": CHANNEL, "guild_id": "g1", "concurrency": 5}]}
    monkeypatch.setenv("MJAPI_SECRETS_JSON", json.dumps(secrets))
    clear_secrets_cache()
    sync_accounts(table, get_secrets().accounts)
    set_session(table, "a1", "session-a1")
    _clear, token = create_token(table, count=50, days=1)
    cdn = _Cdn(("127.0.0.1", 0), _Handler)
    threading.Thread(target=cdn.serve_forever, daemon=True).start()
    host, port = cdn.server_address[:2]
    try:
        with httpx.Client() as http:
            jobs = JobStore(table)
            applier = EventApplier(jobs, ImageCopier(http, sleep=lambda _: None), new_job_id=new_job_id)
            yield World(table, jobs, applier, f"http://{host!s}:{port}", token.token_hash)
    finally:
        cdn.shutdown()
        cdn.server_close()


def _grid(world: World, size: tuple[int, int] | None = None) -> Job:
    """A finished v7 grid (WebP; 2048x2048 from the real bot, small unless the size matters) on message g-1."""
    parent = world.job("n-grid")
    world.feed(*dispatches.interaction("INTERACTION_SUCCESS", interaction_id="i-grid", nonce="n-grid"))
    world.feed(*world.message("v7_grid_result_webp", message_id="g-1", interaction_id="i-grid", size=size))
    done = world.get(parent)
    assert done.status == JobStatus.SUCCEEDED
    return done


def _button_id(job: Job, label: str) -> str:
    return next(b.custom_id for row in job.buttons for b in row if (b.label or b.emoji) == label)


def _with_hash(d: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The same message about another Midjourney job (its uuid in custom_ids and file names)."""
    data: dict[str, Any] = json.loads(json.dumps(d).replace(old, new))
    return data


def _stored(key: str) -> tuple[str, bytes]:
    obj = aws.client("s3").get_object(Bucket=get_settings().bucket_name, Key=key)
    return str(obj["ContentType"]), bytes(obj["Body"].read())


# -- grids and upscales keep their type and size -----------------------------------------------------------------


def test_a_webp_grid_is_stored_as_webp_at_its_own_size(world: World) -> None:
    grid = _grid(world, (2048, 2048))
    image = grid.images[0]
    assert image.key.endswith(".webp") and image.url.endswith(".webp")
    assert (image.content_type, image.width, image.height) == ("image/webp", 2048, 2048)
    content_type, body = _stored(image.key)
    assert content_type == "image/webp" and body[:4] == b"RIFF" and body[8:12] == b"WEBP"
    entry = job_view(grid)["images"][0]
    assert (entry["content_type"], entry["width"], entry["height"], entry["upscaled"]) == (
        "image/webp",
        2048,
        2048,
        False,
    )
    assert [[b.label or b.emoji for b in row] for row in grid.buttons] == [
        ["U1", "U2", "U3", "U4", "🔄"],
        ["V1", "V2", "V3", "V4"],
    ]
    assert grid.message_hash == G7


# -- 1. ephemeral button jobs ----------------------------------------------------------------------------------------


def test_an_ephemeral_button_job_is_found_under_its_parent_and_its_result_by_its_uuid(world: World) -> None:
    grid = _grid(world)
    u1 = world.press(grid, _button_id(grid, "U1"), "n-u1")
    other = world.job("n-other")  # an imagine with the same prompt, running at the same time
    # The bot's waiting message: ephemeral, a reply to the grid, worded like an imagine; no nonce, no known interaction.
    waiting = world.feed(*world.message("button_job_waiting_ephemeral", message_id="e-1", reference="g-1"))
    assert waiting.job_id == u1.id
    bound = world.get(u1)
    assert bound.status == JobStatus.WAITING and bound.message_id == "e-1"
    assert bound.message_hash == U7  # known before the result: only the Cancel Job button shows it
    assert bound.cancel_custom_id == f"MJ::CancelJob::ByJobid::{U7}" and bound.progress_flags == 64
    assert world.get(other).status == JobStatus.SUBMITTED and world.get(other).message_id is None

    world.feed(*world.message("button_job_progress_ephemeral", message_id="e-1", reference="g-1", size=(512, 512)))
    running = world.get(u1)
    assert running.status == JobStatus.RUNNING and running.progress == 46
    assert running.preview_url is not None and running.preview_url.endswith(".webp")

    # The result is a new public message; with nothing but its uuid to go by, it still reaches the job.
    outcome = world.feed(*world.message("v7_upscale_image_1_result", message_id="u-1", size=(1024, 1024)))
    assert outcome.finished == JobStatus.SUCCEEDED and outcome.released_account == "a1"
    done = world.get(u1)
    assert done.status == JobStatus.SUCCEEDED and done.result_message_id == "u-1" and done.message_hash == U7
    image = done.images[0]
    assert (image.content_type, image.width, image.height) == ("image/png", 1024, 1024) and image.key.endswith(".png")
    assert [[b.label or b.emoji for b in row] for row in done.buttons] == [
        ["Upscale (Subtle)", "Upscale (Creative)", "Vary (Subtle)", "Vary (Strong)"],
        ["Zoom Out 2x", "Zoom Out 1.5x", "Custom Zoom"],
        ["⬅️", "➡️", "⬆️", "⬇️"],
        ["Animate (High motion)", "Animate (Low motion)"],  # the ❤️ bookmark is not an action
    ]
    assert job_view(done)["images"][0]["upscaled"] is True
    assert world.get(grid).status == JobStatus.SUCCEEDED and world.get(other).status == JobStatus.SUBMITTED


def test_two_buttons_pressed_at_once_are_told_apart_by_their_interactions(world: World) -> None:
    grid = _grid(world)
    u1 = world.press(grid, _button_id(grid, "U1"), "n-u1")
    u2 = world.press(grid, _button_id(grid, "U2"), "n-u2")
    # Without a key, two unbound children of the same grid are ambiguous: nothing is guessed.
    t, d = world.message("button_job_waiting_ephemeral", message_id="e-0", reference="g-1")
    assert world.feed(t, d).job_id is None
    assert world.get(u1).message_id is None and world.get(u2).message_id is None
    for nonce, iid in (("n-u1", "i-u1"), ("n-u2", "i-u2")):
        world.feed(*dispatches.interaction("INTERACTION_SUCCESS", interaction_id=iid, nonce=nonce))
    # U2's message first, then U1's, each carrying its interaction in interaction_metadata
    t, d = world.message("button_job_waiting_ephemeral", message_id="e-2", reference="g-1", interaction_id="i-u2")
    assert world.feed(t, _with_hash(d, U7, OTHER)).job_id == u2.id
    t, d = world.message("button_job_waiting_ephemeral", message_id="e-1", reference="g-1", interaction_id="i-u1")
    assert world.feed(t, d).job_id == u1.id
    assert (world.get(u1).message_hash, world.get(u2).message_hash) == (U7, OTHER)
    # results in the opposite order, each found by its own uuid
    t, d = world.message("v7_upscale_image_1_result", message_id="u-1")
    world.feed(t, d)
    t, d = world.message("v7_upscale_image_1_result", message_id="u-2")
    world.feed(t, _with_hash(d, U7, OTHER))
    assert (world.get(u1).result_message_id, world.get(u2).result_message_id) == ("u-1", "u-2")


def test_cancelling_clicks_the_cancel_job_button_of_the_ephemeral_message(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = _grid(world)
    u1 = world.press(grid, _button_id(grid, "U1"), "n-u1")
    world.feed(*world.message("button_job_waiting_ephemeral", message_id="e-1", reference="g-1"))
    discord = _Discord(("127.0.0.1", 0), _DiscordHandler)
    discord.posted = []
    threading.Thread(target=discord.serve_forever, daemon=True).start()
    host, port = discord.server_address[:2]
    monkeypatch.setenv("MJAPI_DISCORD_API_BASE", f"http://{host!s}:{port}/api/v9")
    get_settings.cache_clear()
    before = get_token(world.table, world.token_hash)
    try:
        job = commands.cancel(Context.current(), world.get(u1), wait_seconds=0)
    finally:
        discord.shutdown()
        discord.server_close()
    assert job.options.get("cancel_requested") is True
    [click] = discord.posted
    assert click["type"] == 3 and click["message_id"] == "e-1" and click["message_flags"] == 64
    assert click["data"] == {"component_type": 2, "custom_id": f"MJ::CancelJob::ByJobid::{U7}"}
    assert click["session_id"] == "session-a1" and click["nonce"] != u1.nonce
    # the bot stops it: the ephemeral message says (Stopped)
    stopped = f"**{PROMPT}** - <@{USER}> (Stopped)"
    t, d = world.message("button_job_progress_ephemeral", message_id="e-1", reference="g-1", content=stopped)
    assert world.feed(t, d).finished == JobStatus.CANCELLED
    after = get_token(world.table, world.token_hash)
    assert before is not None and after is not None and after.remaining == before.remaining + 1


# -- 3. pan rewrites the prompt ----------------------------------------------------------------------------------


def test_a_pan_result_with_a_rewritten_prompt_reaches_its_job(world: World) -> None:
    grid = _grid(world)
    u1 = world.press(grid, _button_id(grid, "U1"), "n-u1")
    world.feed(*world.message("v7_upscale_image_1_result", message_id="u-1", reference="g-1"))
    single = world.get(u1)
    pan = world.press(single, _button_id(single, "➡️"), "n-pan")
    same_prompt = world.job("n-same")  # the job's original prompt, word for word, on another running job
    assert world.get(pan).prompt == PROMPT
    # No key and no uuid seen before: only the reference to the single ties the result to the pan.
    outcome = world.feed(*world.message("v7_pan_right_result", message_id="p-1", reference="u-1", size=(2688, 1792)))
    assert outcome.finished == JobStatus.SUCCEEDED
    done = world.get(pan)
    assert done.final_prompt == "glass frog on a lily pad, macro photography --v 7 --ar 3:2"
    assert (done.images[0].width, done.images[0].height, done.images[0].content_type) == (2688, 1792, "image/webp")
    assert world.get(same_prompt).status == JobStatus.SUBMITTED


# -- 4. pressed buttons are restyled ------------------------------------------------------------------------------


def test_edits_that_restyle_pressed_buttons_are_harmless(world: World) -> None:
    grid = _grid(world)
    account = get_account(world.table, "a1")
    token = get_token(world.table, world.token_hash)
    t, d = world.message("v7_grid_buttons_restyled", message_id="g-1", interaction_id="i-grid")
    styles: list[list[int]] = []
    for pressed in ([0], [0, 1], [0, 1, 5]):  # several edits in a row: U1, then U2, then V1 turn blurple
        for row in d["components"]:
            for button in row["components"]:
                button["style"] = 2
        flat = [b for row in d["components"] for b in row["components"]]
        for index in pressed:
            flat[index]["style"] = 1
        outcome = world.feed(t, d)
        assert outcome.finished is None and outcome.released_account is None and not outcome.follow_ups
        styles.append([b.style or 0 for row in world.get(grid).buttons for b in row])
    assert styles[0][:2] == [1, 2] and styles[1][:3] == [1, 1, 2] and styles[2][5] == 1
    partial = {**d, "components": []}  # an edit without components takes nothing away
    world.feed(t, partial)
    after = world.get(grid)
    assert [b.style for row in after.buttons for b in row] == [
        1 if i in (0, 1, 5) else 2 for i in range(len(styles[2]))
    ]
    assert after.finished_at == grid.finished_at and after.images == grid.images and after.status == grid.status
    now = get_account(world.table, "a1")
    assert account is not None and now is not None and now.slots_used == account.slots_used == 0
    assert get_token(world.table, world.token_hash) == token


# -- 8. v7 Upscale (Creative) -------------------------------------------------------------------------------------


def test_v7_upscale_creative_reads_upscaled_by_and_is_an_upscale(world: World) -> None:
    grid = _grid(world)
    u1 = world.press(grid, _button_id(grid, "U1"), "n-u1")
    world.feed(*world.message("v7_upscale_image_1_result", message_id="u-1", reference="g-1"))
    creative = world.press(world.get(u1), _button_id(world.get(u1), "Upscale (Creative)"), "n-creative")
    outcome = world.feed(*world.message("v7_upscale_creative_result", message_id="c-1", reference="u-1"))
    assert outcome.finished == JobStatus.SUCCEEDED
    done = world.get(creative)
    assert done.images[0].content_type == "image/png"
    assert job_view(done)["images"][0]["upscaled"] is True
    assert [b.label for b in done.buttons[0]] == ["Redo Upscale (Subtle)", "Redo Upscale (Creative)"]


# -- 11. the ❤️ reply ---------------------------------------------------------------------------------------------


def test_the_rated_reply_changes_nothing(world: World) -> None:
    grid = _grid(world)
    u1 = world.press(grid, _button_id(grid, "U1"), "n-u1")
    world.feed(*world.message("v7_upscale_image_1_result", message_id="u-1", reference="g-1"))
    before = world.get(u1)
    outcome = world.feed(*world.message("rated_reply", message_id="r-1", reference="u-1"))
    assert outcome == Outcome()
    assert world.get(u1) == before
    assert world.jobs.resolve_ref("message", "r-1") is None


# -- 13. Animate ---------------------------------------------------------------------------------------------------


class _Recording(Submitter):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[str] = []

    def send(self, job: Job, account: Any, config: Any) -> None:
        self.sent.append(job.id)


def test_animate_is_charged_and_its_video_is_stored_and_shown(world: World) -> None:
    assert SPECS[ButtonAction.ANIMATE].charged and SPECS[ButtonAction.ANIMATE_EXTEND].charged
    grid = _grid(world)
    u1 = world.press(grid, _button_id(grid, "U1"), "n-u1")
    world.feed(*world.message("v7_upscale_image_1_result", message_id="u-1", reference="g-1"))
    single = world.get(u1)
    token = get_token(world.table, world.token_hash)
    assert token is not None
    recorder = _Recording()
    [video_job] = press(Context.current(submitter=recorder), token, parent=single, action="Animate (High motion)")
    assert recorder.sent == [video_job.id] and video_job.action == ButtonAction.ANIMATE.value
    charged = get_token(world.table, world.token_hash)
    assert charged is not None and charged.remaining == token.remaining - 1  # billed like an action

    t, d = world.message("button_job_waiting_ephemeral", message_id="e-v", reference="u-1")
    assert world.feed(t, _with_hash(d, U7, V7)).job_id == video_job.id
    outcome = world.feed(*world.message("animate_video_result", message_id="v-1"))  # found by its uuid
    assert outcome.finished == JobStatus.SUCCEEDED
    done = world.get(video_job)
    [video] = done.videos
    assert done.images == [] and video.key.startswith("videos/") and video.key.endswith(".mp4")
    assert (video.content_type, video.width, video.height) == ("video/mp4", *VIDEO_SIZE)
    content_type, body = _stored(video.key)
    assert content_type == "video/mp4" and body[4:8] == b"ftyp" and body == mp4_bytes(*VIDEO_SIZE)
    assert done.video_url == video.url and "discord" not in video.url
    view = job_view(done)
    assert view["video_url"] == video.url
    assert view["images"][0]["video_url"] == video.url and view["images"][0]["content_type"] == "video/mp4"
    assert [b.label for b in done.buttons[0]] == ["Extend (High motion)", "Extend (Low motion)"]
    assert task_view(done)["videoUrl"] == video.url  # the /mj face
    assert task_view(world.get(u1))["videoUrl"] is None


def test_a_video_over_the_cap_fails_the_job_clearly(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    grid = _grid(world)
    u1 = world.press(grid, _button_id(grid, "U1"), "n-u1")
    world.feed(*world.message("v7_upscale_image_1_result", message_id="u-1", reference="g-1"))
    video_job = world.press(world.get(u1), _button_id(world.get(u1), "Animate (Low motion)"), "n-video")
    monkeypatch.setattr(image_copy, "MAX_VIDEO_BYTES", 1000)
    outcome = world.feed(*world.message("animate_video_result", message_id="v-1", reference="u-1"))
    assert outcome.finished == JobStatus.FAILED
    failed = world.get(video_job)
    assert failed.error is not None and failed.error.code == "image_unavailable"
    assert "larger than we accept" in failed.error.message


def test_inspect_video_reads_the_mp4_and_refuses_anything_else() -> None:
    facts = inspect_video(mp4_bytes(96, 64))
    assert (facts.content_type, facts.extension, facts.width, facts.height) == ("video/mp4", "mp4", 96, 64)
    png = image_bytes("x", "PNG", (8, 8))
    assert inspect_image(png).content_type == "image/png"
    for bad in (png, b"", mp4_bytes(96, 64)[:40], b"\x00\x00\x00\x10ftypisom\x00\x00\x02\x00"):
        with pytest.raises(InvalidVideo):
            inspect_video(bad)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_inspect_video_never_crashes_on_garbage(tail: bytes) -> None:
    data = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isommp41" + tail
    try:
        facts = inspect_video(data)
    except InvalidVideo:
        return
    assert facts.content_type == "video/mp4" and facts.width >= 0 and facts.height >= 0


# -- 7. /info of a trial, 10. describe of 2025 ------------------------------------------------------------------


def test_a_trial_accounts_info_is_stored_with_its_minutes(world: World) -> None:
    job = world.job("n-info", kind=JobKind.INFO, options={"command": "info"})
    t, d = world.message("info_trial_minutes", message_id="d-info", interaction_id="i-info")
    world.feed(*dispatches.interaction("INTERACTION_SUCCESS", interaction_id="i-info", nonce="n-info"))
    assert world.feed(t, d).finished == JobStatus.SUCCEEDED
    account = get_account(world.table, "a1")
    assert account is not None and account.mode.value == "fast"  # no Job Mode line: the mode is left alone
    assert account.info["subscription"] == "None (Trial)" and account.info["trial"] is True
    assert account.info["fast_time_remaining_minutes"] == 25
    assert account.info["fast_time_remaining_hours"] == pytest.approx(25 / 60)
    assert world.get(job).info["fast_time_remaining_minutes"] == 25


def test_a_2025_describe_is_read_and_its_ephemeral_image_copied(world: World) -> None:
    job = world.job("n-desc", kind=JobKind.DESCRIBE, prompt="")
    world.feed(*dispatches.interaction("INTERACTION_SUCCESS", interaction_id="i-desc", nonce="n-desc"))
    t, d = world.message("describe_result_2025", message_id="d-desc", interaction_id="i-desc")
    d["embeds"][0]["image"]["url"] = f"{world.cdn}/ephemeral-attachments/1092492867185950852/5/frog.webp?ex=1"
    assert world.feed(t, d).finished == JobStatus.SUCCEEDED
    done = world.get(job)
    assert len(done.prompts) == 4 and all("](" not in p and "--ar" not in p for p in done.prompts)
    assert done.prompts[0].endswith("in the style of Tim Flach, macro photography, emerald and amber tones")
    assert done.upload_url is not None and done.upload_url.endswith(".webp")
