"""Pure pieces of the simulator: prompt parsing, images and their sizes, rate-limit windows, ids, command registry, CDN
signing, and Discord's checks of `POST /interactions` bodies."""

from __future__ import annotations

import io
import time
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from simulator.bot.types import PendingModal
from simulator.cdn import Cdn
from simulator.commands import CommandRegistry
from simulator.config import RateLimitConfig, SimConfig
from simulator.errors import ApiError
from simulator.ids import Snowflakes, derive_rng, random_uuid, snowflake_time
from simulator.images import (
    GRID_SIDE,
    ImageSpec,
    ImageStore,
    image_dims,
    outpaint_ratio,
    probe_image,
    render,
    result_size,
)
from simulator.interactions import MODAL_TTL, OpenModals, validate_interaction
from simulator.prompts import PromptError, find_banned, parse_prompt, short_link
from simulator.ratelimit import RateLimiter
from simulator.state import Account, AttachmentRecord, MessageRecord, Origin
from simulator.world import World

JSON = dict[str, Any]

_PIECES = st.sampled_from(
    [
        *"ab -—:.,0123456789/<>",
        "--",
        "--ar ",
        "--v ",
        "--niji",
        "--no ",
        "--seed ",
        "--q ",
        "--tile",
        "--zoom ",
        "--sref ",
        "--cref ",
        "https://x.test/i.png ",
        "--style raw",
        "::",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=25).map("".join))
def test_parser_only_ever_refuses_with_prompt_error(raw: str) -> None:
    outcome: PromptError | None = None
    try:
        parsed = parse_prompt(raw, link_ok=lambda url: True)
    except PromptError as error:
        outcome = error
    if outcome is not None:
        assert outcome.title and outcome.description
    else:
        assert parsed.display and "  " not in parsed.display
        assert parsed.ar[0] > 0 and parsed.ar[1] > 0


def test_parser_settings_suffix_and_custom_options() -> None:
    parsed = parse_prompt("cat --mine", suffix="--v 5.2 --style raw", custom_options={"mine": "--ar 2:3"})
    assert parsed.display == "cat --ar 2:3 --v 5.2 --style raw"
    assert (parsed.version, parsed.ar) == ("5.2", (2, 3))
    niji = parse_prompt("cat --niji 5", suffix="--v 5.2")
    assert niji.version == "niji 5" and "--v" not in niji.display
    assert parse_prompt("cat", bot_key="niji").version == "niji 6"
    with pytest.raises(PromptError, match="niji bot"):
        parse_prompt("cat --v 6", bot_key="niji")


def test_short_links_are_stable() -> None:
    assert short_link("https://a.test/x.png") == short_link("https://a.test/x.png")
    assert short_link("https://a.test/x.png") != short_link("https://a.test/y.png")
    assert len(short_link("https://a.test/x.png").rsplit("/", 1)[1]) == 11


def test_banned_words_match_whole_words() -> None:
    assert find_banned("a simbanned cat", ["simbanned"]) == "simbanned"
    assert find_banned("a SIMBANNED, cat", ["simbanned"]) == "simbanned"
    assert find_banned("a simbannedcat", ["simbanned"]) is None


def test_image_dims_keep_the_ratio() -> None:
    for w, h in ((1, 1), (16, 9), (9, 16), (3, 2), (7, 4), (1, 8)):
        width, height = image_dims(w, h)
        assert width % 8 == 0 and height % 8 == 0
        assert abs(width / height - w / h) / (w / h) < 0.05
    assert image_dims(1, 1, scale=2.0) == (2048, 2048)


def test_result_sizes_are_counted_in_tiles_of_the_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    assert result_size("grid", (1, 1)) == (1024, 1024)
    assert result_size("tile", (1, 1)) == (512, 512)  # U1-U4: one of the four images
    assert result_size("upscale_2x", (1, 1)) == (1024, 1024)  # Subtle, Creative, v5 2x: the tile doubled
    assert result_size("upscale_4x", (1, 1)) == (2048, 2048)  # v5 4x: the tile quadrupled
    for ar in ((16, 9), (2, 3), (7, 4), (1, 8)):
        grid = result_size("grid", ar)
        assert grid == image_dims(*ar)
        tile_w, tile_h = result_size("tile", ar)
        assert (tile_w * 2, tile_h * 2) == grid
        assert result_size("upscale_4x", ar) == (tile_w * 4, tile_h * 4)
    assert result_size("tile", (1, 1), scale=0.5) == (256, 256)
    # v6 and v7 grids are 2048², with the bot's own image sizes for common ratios (one table, images.py)
    assert GRID_SIDE["7"] == GRID_SIDE["6.1"] == GRID_SIDE["6.0"] == 2048
    assert result_size("grid", (1, 1), version="7") == (2048, 2048)
    assert result_size("tile", (1, 1), version="7") == (1024, 1024)
    assert result_size("tile", (16, 9), version="7") == (1456, 816)
    assert result_size("grid", (3, 2), version="7") == (2688, 1792)  # a 1:1 v7 image panned right (2026 capture)
    assert result_size("grid", (8, 3), version="7") == image_dims(8, 3, base=2048)  # other ratios: ~2048² pixels
    monkeypatch.setitem(GRID_SIDE, "5.2", 1536)  # how a model version gets its own grid size
    assert result_size("grid", (1, 1), version="5.2") == (1536, 1536)
    assert result_size("grid", (1, 1), version="5.1") == (1024, 1024)


def test_outpaint_ratios() -> None:
    assert outpaint_ratio((16, 9)) == (16, 9)  # zoom out keeps the canvas shape
    assert outpaint_ratio((1, 1), pan="left") == outpaint_ratio((1, 1), pan="right") == (3, 2)
    assert outpaint_ratio((1, 1), pan="up") == outpaint_ratio((1, 1), pan="down") == (2, 3)
    assert outpaint_ratio((16, 9), pan="down") == (32, 27)
    assert outpaint_ratio((2, 3), square=True) == (1, 1)


def test_render_is_deterministic_and_real() -> None:
    spec = ImageSpec("grid", 512, 288, palette_seed=11, tag=0xABC)
    assert render(spec) == render(spec)
    image = Image.open(io.BytesIO(render(spec)))
    assert image.format == "PNG" and image.size == (512, 288)
    single = Image.open(io.BytesIO(render(replace(spec, kind="single", quadrant=2))))
    assert single.size == (512, 288)
    previews = [render(replace(spec, kind="preview", width=128, height=72, progress=p)) for p in (0, 50, 90)]
    assert len(set(previews)) == 3
    assert Image.open(io.BytesIO(previews[0])).format == "WEBP"
    assert render(replace(spec, tag=0xABD)) != render(spec)
    assert render(replace(spec, zoom=2.0)) != render(spec) != render(replace(spec, pan="left"))


def test_probe_image() -> None:
    data = render(ImageSpec("single", 64, 64, palette_seed=3))
    width, height, mime, colour = probe_image(data) or (0, 0, "", (0, 0, 0))
    assert (width, height, mime) == (64, 64, "image/png") and len(colour) == 3
    assert probe_image(b"not an image") is None


async def test_image_store_evicts_and_rerenders() -> None:
    store = ImageStore(max_bytes=1, threads=1)
    first = ImageSpec("grid", 128, 128, palette_seed=1)
    second = ImageSpec("grid", 128, 128, palette_seed=2)
    a = await store.get(first)
    await store.get(second)
    assert store.cached(first) is None
    assert await store.get(first) == a
    assert store.renders == 3
    store.close()


def test_rate_limiter_windows() -> None:
    config = RateLimitConfig()
    config.buckets["messages"].limit = 2
    limiter = RateLimiter(config)
    assert limiter.check("u", "messages", "c1").allowed
    assert limiter.check("u", "messages", "c1").allowed
    verdict = limiter.check("u", "messages", "c1")
    assert not verdict.allowed and verdict.retry_after > 0 and "Retry-After" in verdict.headers
    assert limiter.check("u", "messages", "c2").allowed  # another major resource has its own window
    assert limiter.check("v", "messages", "c1").allowed  # and another user too
    config.enabled = False
    assert limiter.check("u", "messages", "c1").allowed


def test_snowflakes_are_monotonic_and_timed() -> None:
    flakes = Snowflakes()
    ids = [int(flakes.next()) for _ in range(5000)]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert abs(snowflake_time(str(ids[-1])) - time.time()) < 5


def test_derived_randomness_is_stable() -> None:
    assert random_uuid(derive_rng(1, "job", "u", 1)) == random_uuid(derive_rng(1, "job", "u", 1))
    assert random_uuid(derive_rng(1, "job", "u", 1)) != random_uuid(derive_rng(2, "job", "u", 1))


def test_command_registry_bump_and_search() -> None:
    registry = CommandRegistry()
    app = registry.app_by_key("midjourney")
    assert app is not None
    before = registry.find_by_name(app.id, "imagine")
    assert before is not None and before.version == "1237876415471554623"
    registry.bump(app.id, "imagine", "2000000000000000000")
    assert registry.index([app.id])["version"] == "2000000000000000000"
    found = registry.search([app.id], command_type=1, query="sho", limit=5, include_applications=False)
    assert [c["name"] for c in found["application_commands"]] == ["show", "shorten"]
    with pytest.raises(KeyError):
        registry.bump(app.id, "nonexistent", "1")
    registry.reset()
    assert registry.find_by_name(app.id, "imagine").version == "1237876415471554623"  # type: ignore[union-attr]


def test_cdn_signatures() -> None:
    world = World(SimConfig())
    cdn = Cdn(world, ImageStore(1 << 20), b"k")
    cdn.base = "http://h"
    record = AttachmentRecord("5", "9", "a.png", "image/png", 1, 1, 1)
    world.add_attachment(record)
    url = cdn.url(record)
    assert url.startswith("http://h/attachments/9/5/a.png?ex=") and url.endswith("&")
    assert cdn.url_is_live(url)
    assert not cdn.url_is_live(url.replace("hm=", "hm=0"))
    cdn.advance(world.config.cdn_ttl + 1)
    assert not cdn.url_is_live(url)
    assert cdn.url_is_live(cdn.refresh(url) or "")
    assert cdn.refresh("http://elsewhere/x.png") is None
    assert cdn.url_is_live("https://example.com/not-ours.png")


# ----- Discord's checks of POST /interactions (simulator.interactions) ------------------------------------------------


class _Intake:
    """A world with one account, and bodies for its channel."""

    def __init__(self) -> None:
        self.world = World(SimConfig())
        self.account: Account = self.world.add_account(name="alice")
        self.channel = self.world.channels[self.account.channel_id]
        app = self.world.commands.app_by_key("midjourney")
        assert app is not None
        self.app = app
        self.modals = OpenModals()

    def body(self, kind: int, data: JSON, **fields: Any) -> JSON:
        return {
            "type": kind,
            "application_id": self.app.id,
            "guild_id": self.account.guild_id,
            "channel_id": self.account.channel_id,
            "session_id": "s" * 32,
            "nonce": "1",
            "data": data,
            **fields,
        }

    def command(self, name: str, options: list[JSON], **changes: Any) -> JSON:
        command = self.world.commands.find_by_name(self.app.id, name)
        assert command is not None
        data = {"id": command.id, "version": command.version, "name": name, "type": 1, "options": options}
        return self.body(2, {**data, **changes})

    def validate(self, body: Any, files: dict[str, tuple[str, bytes]] | None = None) -> Any:
        return validate_interaction(self.world, self.modals, self.account, body, files or {})

    def refusal(self, body: Any) -> tuple[int, int, str]:
        """(status, code, first nested error code) of a refused body."""
        with pytest.raises(ApiError) as caught:
            self.validate(body)
        error = caught.value
        node = error.errors or {}
        while "_errors" not in node and node:
            node = next(iter(node.values()))
        return error.status, error.code, node.get("_errors", [{}])[0].get("code", "")


def test_intake_accepts_a_command() -> None:
    intake = _Intake()
    ctx = intake.validate(intake.command("imagine", [{"type": 3, "name": "prompt", "value": "a cat"}]))
    assert (ctx.type, ctx.name, ctx.options, ctx.nonce) == (2, "imagine", {"prompt": "a cat"}, "1")
    assert ctx.origin.name == "imagine" and ctx.origin.user is intake.account and ctx.channel is intake.channel
    prefer = intake.validate(intake.command("prefer", [{"type": 1, "name": "remix", "options": []}]))
    assert prefer.name == "prefer remix"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"application_id": "1"}, (404, 10002, "")),
        ({"channel_id": "1"}, (404, 10003, "")),
        ({"guild_id": "1"}, (400, 50035, "GUILD_ID_INVALID")),
        ({"session_id": ""}, (400, 50035, "BASE_TYPE_REQUIRED")),
        ({"nonce": "9" * 26}, (400, 50035, "BASE_TYPE_BAD_LENGTH")),
        ({"type": 4}, (400, 50035, "BASE_TYPE_CHOICES")),
        ({"data": None}, (400, 50035, "BASE_TYPE_REQUIRED")),
    ],
)
def test_intake_refuses_bad_envelopes(change: JSON, expected: tuple[int, int, str]) -> None:
    intake = _Intake()
    body = intake.command("imagine", [{"type": 3, "name": "prompt", "value": "x"}])
    assert intake.refusal({**body, **change}) == expected


def test_intake_refuses_bad_commands() -> None:
    intake = _Intake()
    prompt = [{"type": 3, "name": "prompt", "value": "x"}]
    assert intake.refusal(["not", "an", "object"]) == (400, 50109, "")
    assert intake.refusal(intake.command("imagine", prompt, version="1")) == (
        400,
        50035,
        "INTERACTION_APPLICATION_COMMAND_INVALID_VERSION",
    )
    assert intake.refusal(intake.command("imagine", prompt, id="1")) == (
        400,
        50035,
        "INTERACTION_APPLICATION_COMMAND_INVALID",
    )
    assert intake.refusal(intake.command("imagine", [])) == (400, 50035, "BASE_TYPE_REQUIRED")
    assert intake.refusal(intake.command("imagine", [{"type": 4, "name": "prompt", "value": 1}]))[2] == (
        "APPLICATION_COMMAND_OPTION_TYPE_INVALID"
    )
    missing = {"id": "0", "filename": "a.png", "uploaded_filename": "nope/a.png"}
    describe = intake.command("describe", [{"type": 11, "name": "image", "value": "0"}], attachments=[missing])
    assert intake.refusal(describe) == (400, 50035, "ATTACHMENT_NOT_FOUND")
    inline = {"files[0]": ("a.png", render(ImageSpec("single", 32, 32, palette_seed=1)))}
    ctx = intake.validate({**describe, "data": {**describe["data"], "attachments": [{"id": "0"}]}}, inline)
    assert ctx.attachments["0"].filename == "a.png" and ctx.options == {"image": "0"}


def _bot_message(intake: _Intake, *, ephemeral: bool = False) -> MessageRecord:
    button = {"type": 2, "style": 2, "custom_id": "MJ::Tos::Accept", "label": "Accept"}
    data = {
        "id": intake.world.snowflakes.next(),
        "author": intake.app.user_json(),
        "components": [{"type": 1, "components": [button]}],
        "flags": 64 if ephemeral else 0,
    }
    record = MessageRecord(data, intake.channel.id, ephemeral_user=intake.account.user_id if ephemeral else None)
    intake.world.store_message(record)
    return record


def test_intake_checks_clicks_against_the_message() -> None:
    intake = _Intake()
    record = _bot_message(intake)
    click = intake.body(3, {"component_type": 2, "custom_id": "MJ::Tos::Accept"}, message_id=record.id)
    ctx = intake.validate(click)
    assert ctx.message is record and ctx.name == "MJ::Tos::Accept" and ctx.origin.interacted_message_id == record.id
    assert intake.refusal({**click, "message_id": "1"}) == (404, 10008, "")
    stale = {**click, "data": {"component_type": 2, "custom_id": "MJ::Tos::Other"}}
    assert intake.refusal(stale) == (400, 50035, "COMPONENT_CUSTOM_ID_INVALID")
    wrong_type = {**click, "data": {"component_type": 3, "custom_id": "MJ::Tos::Accept"}}
    assert intake.refusal(wrong_type) == (400, 50035, "COMPONENT_TYPE_INVALID")
    hidden = _bot_message(intake, ephemeral=True)
    ephemeral_click = {**click, "message_id": hidden.id}
    assert intake.refusal(ephemeral_click) == (404, 10008, "")  # ephemeral messages need message_flags 64
    assert intake.validate({**ephemeral_click, "message_flags": 64}).message is hidden


def _open_modal(intake: _Intake, created: float | None = None) -> PendingModal:
    origin = Origin(intake.world.snowflakes.next(), 3, "", intake.account, "s", intake.account.guild_id)
    modal = PendingModal(
        id=origin.interaction_id,
        custom_id="MJ::ImagineModal::1",
        account=intake.account,
        app=intake.app,
        channel=intake.channel,
        origin=origin,
        message=None,
        job=None,
        inputs=["MJ::ImagineModal::new_prompt"],
    )
    if created is not None:
        modal.created = created
    intake.modals.add(modal)
    return modal


def _modal_submit(intake: _Intake, modal: PendingModal, value: str) -> JSON:
    field = {"type": 4, "custom_id": "MJ::ImagineModal::new_prompt", "value": value}
    data = {"id": modal.id, "custom_id": modal.custom_id, "components": [{"type": 1, "components": [field]}]}
    return intake.body(5, data)


def test_intake_lets_a_modal_be_submitted_once() -> None:
    intake = _Intake()
    modal = _open_modal(intake)
    assert intake.refusal(_modal_submit(intake, modal, "  ")) == (400, 50035, "MODAL_FIELD_REQUIRED")
    wrong_id = _modal_submit(intake, modal, "a dog")
    wrong_id["data"]["custom_id"] = "MJ::ImagineModal::2"
    assert intake.refusal(wrong_id) == (400, 50035, "MODAL_CUSTOM_ID_INVALID")
    ctx = intake.validate(_modal_submit(intake, modal, "a dog"))  # refused submits left it open
    assert ctx.modal is modal and ctx.values == {"MJ::ImagineModal::new_prompt": "a dog"}
    assert ctx.origin.triggering is modal.origin and modal.id not in intake.modals
    assert intake.refusal(_modal_submit(intake, modal, "a dog")) == (404, 10062, "")


def test_intake_forgets_expired_modals() -> None:
    intake = _Intake()
    old = _open_modal(intake, created=time.time() - MODAL_TTL - 1)
    fresh = _open_modal(intake)
    assert old.id not in intake.modals and fresh.id in intake.modals
    assert intake.refusal(_modal_submit(intake, old, "late")) == (404, 10062, "")
