"""custom_id grammar from the action table: every documented form parses, renders back byte-identical, and says what
pressing it opens and produces."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mjapi.discord.interactions import modal_submit
from mjapi.midjourney.actions import ACTIONS, PAN_DIRECTIONS, SPECS, ButtonAction, JobAction, ModalKind
from mjapi.midjourney.custom_ids import parse_custom_id, parse_modal_id, render_custom_id, render_modal_id

H = "350fb24a-dd72-45f2-ade8-048379a2ed5a"

DOCUMENTED: list[tuple[str, ButtonAction, dict[str, Any]]] = [
    (f"MJ::JOB::upsample::3::{H}", ButtonAction.UPSAMPLE, {"index": 3, "solo": False}),
    (f"MJ::JOB::variation::2::{H}", ButtonAction.VARIATION, {"index": 2}),
    (f"MJ::JOB::variation::1::{H}::SOLO", ButtonAction.VARIATION, {"index": 1, "solo": True}),
    (f"MJ::JOB::reroll::0::{H}::SOLO", ButtonAction.REROLL, {"index": 0, "solo": True}),
    (f"MJ::JOB::upsample_v6_2x_subtle::1::{H}::SOLO", ButtonAction.UPSCALE_SUBTLE, {"model": "v6"}),
    (f"MJ::JOB::upsample_v6_2x_creative::1::{H}::SOLO", ButtonAction.UPSCALE_CREATIVE, {"model": "v6"}),
    (f"MJ::JOB::upsample_v6r1_2x_subtle::1::{H}::SOLO", ButtonAction.UPSCALE_SUBTLE, {"model": "v6r1"}),
    (f"MJ::JOB::upsample_v7_2x_creative::1::{H}::SOLO", ButtonAction.UPSCALE_CREATIVE, {"model": "v7"}),
    (f"MJ::JOB::upsample_v5_2x::1::{H}::SOLO", ButtonAction.UPSCALE_2X, {"model": "v5"}),
    (f"MJ::JOB::upsample_v5_4x::1::{H}::SOLO", ButtonAction.UPSCALE_4X, {"model": "v5"}),
    (f"MJ::JOB::upsample_max::1::{H}::SOLO", ButtonAction.UPSCALE_OTHER, {"variant": "max"}),
    (f"MJ::JOB::low_variation::1::{H}::SOLO", ButtonAction.VARY_SUBTLE, {}),
    (f"MJ::JOB::high_variation::1::{H}::SOLO", ButtonAction.VARY_STRONG, {}),
    (f"MJ::Inpaint::1::{H}::SOLO", ButtonAction.VARY_REGION, {"index": 1}),
    (f"MJ::Outpaint::50::1::{H}::SOLO", ButtonAction.ZOOM_OUT, {"outpaint_percent": 50, "zoom_factor": 2.0}),
    (f"MJ::Outpaint::75::1::{H}::SOLO", ButtonAction.ZOOM_OUT, {"outpaint_percent": 75, "zoom_factor": 1.5}),
    (f"MJ::Outpaint::100::1::{H}::SOLO", ButtonAction.MAKE_SQUARE, {"outpaint_percent": 100, "zoom_factor": 1.0}),
    (f"MJ::CustomZoom::{H}", ButtonAction.CUSTOM_ZOOM, {}),
    (f"MJ::JOB::animate_high::1::{H}::SOLO", ButtonAction.ANIMATE, {"variant": "high"}),
    (f"MJ::JOB::video_virtual_upscale::3::{H}", ButtonAction.VIDEO_UPSCALE, {"index": 3, "solo": False}),
    (f"MJ::JOB::animate_low_extend::2::{H}", ButtonAction.ANIMATE_EXTEND, {"variant": "low", "index": 2}),
    (f"MJ::CancelJob::ByJobid::{H}", ButtonAction.CANCEL_JOB, {}),
    (f"MJ::BOOKMARK::{H}", ButtonAction.BOOKMARK, {}),
    ("MJ::Job::PromptAnalyzerExtended", ButtonAction.SHORTEN_DETAILS, {}),
    (f"MJ::JOB::pan_left::1::{H}::SOLO", ButtonAction.PAN, {"direction": "left"}),
    (f"MJ::JOB::pan_down::1::{H}::SOLO", ButtonAction.PAN, {"direction": "down"}),
    ("MJ::Job::PicReader::2", ButtonAction.DESCRIBE_IMAGINE, {"index": 2, "job_hash": None}),
    ("MJ::Job::PicReader::all", ButtonAction.DESCRIBE_IMAGINE_ALL, {}),
    ("MJ::Picread::Retry", ButtonAction.DESCRIBE_RETRY, {}),
    ("MJ::Job::PromptAnalyzer::4", ButtonAction.SHORTEN_IMAGINE, {"index": 4}),
    ("MJ::Settings::RemixMode", ButtonAction.SETTING, {"setting": "RemixMode"}),
    ("MJ::Settings::Style::raw", ButtonAction.SETTING, {"setting": "Style::raw"}),
    ("MJ::Settings::HighVariabilityMode::1", ButtonAction.SETTING, {"setting": "HighVariabilityMode::1"}),
]


@pytest.mark.parametrize(("raw", "action", "fields"), DOCUMENTED)
def test_documented_custom_ids(raw: str, action: ButtonAction, fields: dict[str, Any]) -> None:
    parsed = parse_custom_id(raw)
    assert parsed.action is action
    assert parsed.raw == raw
    for name, value in fields.items():
        assert getattr(parsed, name) == value, name
    if "job_hash" not in fields and raw.count("-") >= 4:
        assert parsed.job_hash == H
    assert parsed.render() == raw


@pytest.mark.parametrize(
    ("raw", "action"),
    [
        (f"MJ::JOB::upsample::1::{H}::RATING::1", ButtonAction.RATING),
        ("MJ::BOOKMARK", ButtonAction.BOOKMARK),
        ("MJ::Captcha::Verify::abc", ButtonAction.CAPTCHA),
        ("MJ::JOB::upsample::x::" + H, ButtonAction.UNKNOWN),  # bad index
        ("MJ::JOB::upsample::1::not-a-uuid", ButtonAction.UNKNOWN),
        (f"MJ::JOB::pan_sideways::1::{H}::SOLO", ButtonAction.UNKNOWN),
        (f"MJ::JOB::upsample::1::{H}::EXTRA::MORE", ButtonAction.UNKNOWN),
        ("MJ::Job::PromptAnalyzer::Details", ButtonAction.UNKNOWN),
        ("MJ::Tos::Accept", ButtonAction.UNKNOWN),
        ("", ButtonAction.UNKNOWN),
        ("MJ::Settings::", ButtonAction.UNKNOWN),
    ],
)
def test_noise_and_unknown(raw: str, action: ButtonAction) -> None:
    parsed = parse_custom_id(raw)
    assert parsed.action is action
    assert parsed.render() == raw


def test_non_string_is_unknown() -> None:
    assert parse_custom_id(None).action is ButtonAction.UNKNOWN
    assert parse_custom_id(42).raw == ""


def test_render_matches_what_midjourney_sends() -> None:
    assert render_custom_id(ButtonAction.UPSAMPLE, hash=H, index=2) == f"MJ::JOB::upsample::2::{H}"
    assert render_custom_id(ButtonAction.VARIATION, hash=H, index=4) == f"MJ::JOB::variation::4::{H}"
    assert render_custom_id(ButtonAction.REROLL, hash=H, index=0, solo=True) == f"MJ::JOB::reroll::0::{H}::SOLO"
    assert (
        render_custom_id(ButtonAction.UPSCALE_CREATIVE, hash=H, index=1, solo=True, model="v6r1")
        == f"MJ::JOB::upsample_v6r1_2x_creative::1::{H}::SOLO"
    )
    assert (
        render_custom_id(ButtonAction.UPSCALE_4X, hash=H, index=1, solo=True, model="v5")
        == f"MJ::JOB::upsample_v5_4x::1::{H}::SOLO"
    )
    assert render_custom_id(ButtonAction.VARY_REGION, hash=H, index=1, solo=True) == f"MJ::Inpaint::1::{H}::SOLO"
    assert (
        render_custom_id(ButtonAction.ZOOM_OUT, hash=H, index=1, solo=True, percent=75)
        == f"MJ::Outpaint::75::1::{H}::SOLO"
    )
    assert render_custom_id(ButtonAction.MAKE_SQUARE, hash=H, index=1, solo=True) == f"MJ::Outpaint::100::1::{H}::SOLO"
    assert render_custom_id(ButtonAction.CUSTOM_ZOOM, hash=H) == f"MJ::CustomZoom::{H}"
    assert render_custom_id(ButtonAction.PAN, hash=H, index=1, solo=True, direction="up") == (
        f"MJ::JOB::pan_up::1::{H}::SOLO"
    )
    assert render_custom_id(ButtonAction.DESCRIBE_IMAGINE, index=3) == "MJ::Job::PicReader::3"
    assert render_custom_id(ButtonAction.DESCRIBE_IMAGINE_ALL) == "MJ::Job::PicReader::all"
    assert render_custom_id(ButtonAction.SHORTEN_IMAGINE, index=5) == "MJ::Job::PromptAnalyzer::5"
    assert render_custom_id(ButtonAction.SETTING, setting="RemixMode") == "MJ::Settings::RemixMode"
    assert render_custom_id(ButtonAction.CANCEL_JOB, hash=H) == f"MJ::CancelJob::ByJobid::{H}"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"action": ButtonAction.UPSAMPLE, "hash": "nope", "index": 1},
        {"action": ButtonAction.UPSAMPLE, "hash": H},
        {"action": ButtonAction.PAN, "hash": H, "index": 1, "direction": "diagonal"},
        {"action": ButtonAction.SHORTEN_IMAGINE},
        {"action": ButtonAction.SETTING},
        {"action": ButtonAction.RATING, "hash": H},
        {"action": ButtonAction.UPSCALE_SUBTLE, "hash": H, "index": 1, "model": "v6::x"},
    ],
)
def test_render_rejects_bad_input(kwargs: dict[str, Any]) -> None:
    action = kwargs.pop("action")
    with pytest.raises(ValueError):
        render_custom_id(action, **kwargs)


_renderable = st.one_of(
    st.builds(
        lambda a, h, i, solo: (a, {"hash": h, "index": i, "solo": solo}),
        st.sampled_from(
            [
                ButtonAction.UPSAMPLE,
                ButtonAction.VARIATION,
                ButtonAction.REROLL,
                ButtonAction.VARY_SUBTLE,
                ButtonAction.VARY_STRONG,
                ButtonAction.VARY_REGION,
                ButtonAction.MAKE_SQUARE,
            ]
        ),
        st.uuids().map(str),
        st.integers(0, 4),
        st.booleans(),
    ),
    st.builds(
        lambda a, h, m: (a, {"hash": h, "index": 1, "solo": True, "model": m}),
        st.sampled_from(
            [
                ButtonAction.UPSCALE_SUBTLE,
                ButtonAction.UPSCALE_CREATIVE,
                ButtonAction.UPSCALE_2X,
                ButtonAction.UPSCALE_4X,
            ]
        ),
        st.uuids().map(str),
        st.sampled_from(["v5", "v6", "v6r1", "v7"]),
    ),
    st.builds(
        lambda h, p: (ButtonAction.ZOOM_OUT, {"hash": h, "index": 1, "solo": True, "percent": p}),
        st.uuids().map(str),
        st.sampled_from([50, 75]),
    ),
    st.builds(
        lambda h, d: (ButtonAction.PAN, {"hash": h, "index": 1, "solo": True, "direction": d}),
        st.uuids().map(str),
        st.sampled_from(PAN_DIRECTIONS),
    ),
    st.builds(
        lambda a, i: (a, {"index": i}),
        st.sampled_from([ButtonAction.DESCRIBE_IMAGINE, ButtonAction.SHORTEN_IMAGINE]),
        st.integers(1, 9),
    ),
    st.builds(
        lambda s: (ButtonAction.SETTING, {"setting": s}),
        st.from_regex(r"[A-Za-z]{1,12}(::[A-Za-z0-9]{1,5})?", fullmatch=True),
    ),
)


@given(_renderable)
def test_render_parse_round_trip(spec: tuple[ButtonAction, dict[str, Any]]) -> None:
    action, values = spec
    text = render_custom_id(action, **values)
    parsed = parse_custom_id(text)
    assert parsed.action is action
    assert parsed.render() == text
    for key, attribute in (("hash", "job_hash"), ("index", "index"), ("direction", "direction"), ("model", "model")):
        if key in values:
            assert getattr(parsed, attribute) == values[key]


@given(st.text(max_size=120) | st.lists(st.text(max_size=10), max_size=6).map("::".join))
def test_parse_render_identity_on_any_text(text: str) -> None:
    parsed = parse_custom_id(text)
    assert parsed.render() == text
    assert parse_custom_id(parsed.render()) == parsed
    assert parse_modal_id(text).render() == text


def test_every_action_with_a_grammar_renders_and_parses_back() -> None:
    """The table is the grammar: each entry's first template renders to an id that parses back to that entry."""
    values = {"hash": H, "index": 1, "solo": True, "model": "v7", "direction": "left", "percent": 50}
    values |= {"variant": "high", "setting": "RemixMode"}
    for spec in ACTIONS:
        if spec.templates:
            assert parse_custom_id(render_custom_id(spec.action, **values)).action is spec.action


def test_what_each_action_produces() -> None:
    upscales = {a for a, spec in SPECS.items() if spec.upscaled}
    assert upscales == {
        ButtonAction.UPSAMPLE,
        ButtonAction.UPSCALE_SUBTLE,
        ButtonAction.UPSCALE_CREATIVE,
        ButtonAction.UPSCALE_2X,
        ButtonAction.UPSCALE_4X,
        ButtonAction.UPSCALE_OTHER,
        ButtonAction.VIDEO_UPSCALE,  # one video out of Animate's four
    }
    assert SPECS[ButtonAction.VIDEO_UPSCALE].result is JobAction.VIDEO is SPECS[ButtonAction.ANIMATE].result
    assert SPECS[ButtonAction.VIDEO_UPSCALE].proxy_action == "UPSCALE" and SPECS[ButtonAction.VIDEO_UPSCALE].charged
    assert SPECS[ButtonAction.REROLL].result is JobAction.IMAGINE
    assert SPECS[ButtonAction.VARY_REGION].result is JobAction.VARIATION
    assert SPECS[ButtonAction.MAKE_SQUARE].result is JobAction.ZOOM
    assert SPECS[ButtonAction.CUSTOM_ZOOM].proxy_action == "CUSTOM_ZOOM"
    assert SPECS[ButtonAction.VARY_REGION].proxy_action == "INPAINT"
    assert not SPECS[ButtonAction.SETTING].makes_job and not SPECS[ButtonAction.SETTING].charged


# ---------------------------------------------------------------- modals

MODALS = [
    (f"MJ::RemixModal::{H}::1::0", ModalKind.REMIX, {"index": 1, "strong": False}),
    (f"MJ::RemixModal::{H}::3::1", ModalKind.REMIX, {"index": 3, "strong": True}),
    (f"MJ::RemixModal::{H}::2", ModalKind.REMIX, {"index": 2, "strong": None}),
    (f"MJ::PanModal::left::{H}::1", ModalKind.PAN, {"direction": "left", "index": 1}),
    (f"MJ::OutpaintCustomZoomModal::{H}", ModalKind.CUSTOM_ZOOM, {"job_hash": H}),
    ("MJ::ImagineModal::1265485889606516808", ModalKind.IMAGINE, {"message_id": "1265485889606516808"}),
    ("MJ::Picreader::Modal::3", ModalKind.PICREADER, {"index": 3}),
    ("MJ::iframe::U3NrOeTDrxe1JF3Xe0zdAtAQ5N4pOjkF", ModalKind.IFRAME, {"token": "U3NrOeTDrxe1JF3Xe0zdAtAQ5N4pOjkF"}),
    ("MJ::SomethingNew::1", ModalKind.UNKNOWN, {}),
]


@pytest.mark.parametrize(("raw", "kind", "fields"), MODALS)
def test_modal_ids(raw: str, kind: ModalKind, fields: dict[str, Any]) -> None:
    parsed = parse_modal_id(raw)
    assert parsed.kind is kind
    for name, value in fields.items():
        assert getattr(parsed, name) == value
    assert parsed.render() == raw


def test_text_input_ids() -> None:
    assert parse_modal_id(f"MJ::RemixModal::{H}::1::0").text_input_id == "MJ::RemixModal::new_prompt"
    assert parse_modal_id(f"MJ::PanModal::up::{H}::1").text_input_id == "MJ::PanModal::prompt"
    assert parse_modal_id(f"MJ::OutpaintCustomZoomModal::{H}").text_input_id == "MJ::OutpaintCustomZoomModal::prompt"
    assert parse_modal_id("MJ::ImagineModal::1").text_input_id == "MJ::ImagineModal::new_prompt"
    assert parse_modal_id("MJ::Picreader::Modal::1").text_input_id == "MJ::Picreader::Modal::PromptField"
    assert parse_modal_id("MJ::iframe::x").text_input_id is None


def test_which_buttons_open_a_form() -> None:
    remix_forms = {a for a, spec in SPECS.items() if spec.opens_form(remix=True)}
    plain_forms = {a for a, spec in SPECS.items() if spec.opens_form(remix=False)}
    assert plain_forms == {
        ButtonAction.VARY_REGION,
        ButtonAction.CUSTOM_ZOOM,
        ButtonAction.DESCRIBE_IMAGINE,
        ButtonAction.SHORTEN_IMAGINE,
    }
    assert remix_forms - plain_forms == {
        ButtonAction.VARIATION,
        ButtonAction.REROLL,
        ButtonAction.VARY_SUBTLE,
        ButtonAction.VARY_STRONG,
        ButtonAction.PAN,
    }
    assert SPECS[ButtonAction.PAN].modal is ModalKind.PAN
    assert SPECS[ButtonAction.VARY_REGION].modal is ModalKind.IFRAME


def test_render_modal_ids() -> None:
    assert render_modal_id(ModalKind.REMIX, hash=H, index=2, strong=True) == f"MJ::RemixModal::{H}::2::1"
    assert render_modal_id(ModalKind.PAN, hash=H, index=1, direction="up") == f"MJ::PanModal::up::{H}::1"
    assert render_modal_id(ModalKind.IMAGINE, message_id="99") == "MJ::ImagineModal::99"


def test_modal_submit_data_matches_template() -> None:
    """Same shape as TA remix.json / zoom.json ``data``."""
    payload = modal_submit(
        application_id="936929561302675456",
        guild_id="1",
        channel_id="2",
        session_id="s",
        nonce="n",
        modal_id="1240589162912663000",
        custom_id=f"MJ::RemixModal::{H}::1::0",
        text_input_id="MJ::RemixModal::new_prompt",
        value="a frog",
    )
    assert payload["type"] == 5
    assert payload["nonce"] == "n" and payload["session_id"] == "s"
    assert payload["data"] == {
        "id": "1240589162912663000",
        "custom_id": f"MJ::RemixModal::{H}::1::0",
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "MJ::RemixModal::new_prompt", "value": "a frog"}]}
        ],
    }


@given(st.uuids(), st.integers(1, 4), st.sampled_from(PAN_DIRECTIONS), st.booleans())
def test_modal_round_trip(job: uuid.UUID, index: int, direction: str, strong: bool) -> None:
    for text in (
        f"MJ::RemixModal::{job}::{index}::{int(strong)}",
        f"MJ::PanModal::{direction}::{job}::{index}",
        f"MJ::OutpaintCustomZoomModal::{job}",
    ):
        parsed = parse_modal_id(text)
        assert parsed.kind is not ModalKind.UNKNOWN
        assert parsed.job_hash == str(job)
        assert parsed.render() == text
