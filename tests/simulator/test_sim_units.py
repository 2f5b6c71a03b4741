"""Pure pieces of the simulator: prompt parsing, images, rate-limit windows, ids, command registry, CDN signing."""

from __future__ import annotations

import io
import time
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from simulator.cdn import Cdn
from simulator.commands import CommandRegistry
from simulator.config import RateLimitConfig, SimConfig
from simulator.ids import Snowflakes, derive_rng, random_uuid, snowflake_time
from simulator.images import ImageSpec, ImageStore, image_dims, probe_image, render
from simulator.prompts import PromptError, find_banned, parse_prompt, short_link
from simulator.ratelimit import RateLimiter
from simulator.state import AttachmentRecord
from simulator.world import World

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
