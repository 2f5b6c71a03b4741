"""custom_id grammar: every documented form parses, renders back byte-identical, and predicts its modal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mjapi.midjourney.custom_ids import (
    PAN_DIRECTIONS,
    ButtonAction,
    CustomId,
    ModalKind,
    build_custom_id,
    build_modal_submit_data,
    modal_for_button,
    parse_custom_id,
    parse_modal_id,
)

H = "350fb24a-dd72-45f2-ade8-048379a2ed5a"

DOCUMENTED: list[tuple[str, ButtonAction, dict[str, Any]]] = [
    (f"MJ::JOB::upsample::3::{H}", ButtonAction.UPSAMPLE, {"index": 3, "solo": False}),
    (f"MJ::JOB::variation::2::{H}", ButtonAction.VARIATION, {"index": 2}),
    (f"MJ::JOB::variation::1::{H}::SOLO", ButtonAction.VARIATION, {"index": 1, "solo": True}),
    (f"MJ::JOB::reroll::0::{H}::SOLO", ButtonAction.REROLL, {"index": 0, "solo": True}),
    (f"MJ::JOB::upsample_v6_2x_subtle::1::{H}::SOLO", ButtonAction.UPSCALE_SUBTLE, {"upscale_model": "v6"}),
    (f"MJ::JOB::upsample_v6_2x_creative::1::{H}::SOLO", ButtonAction.UPSCALE_CREATIVE, {"upscale_model": "v6"}),
    (f"MJ::JOB::upsample_v6r1_2x_subtle::1::{H}::SOLO", ButtonAction.UPSCALE_SUBTLE, {"upscale_model": "v6r1"}),
    (f"MJ::JOB::upsample_v7_2x_creative::1::{H}::SOLO", ButtonAction.UPSCALE_CREATIVE, {"upscale_model": "v7"}),
    (f"MJ::JOB::upsample_v5_2x::1::{H}::SOLO", ButtonAction.UPSCALE_2X, {"upscale_model": "v5"}),
    (f"MJ::JOB::upsample_v5_4x::1::{H}::SOLO", ButtonAction.UPSCALE_4X, {"upscale_model": "v5"}),
    (f"MJ::JOB::upsample_max::1::{H}::SOLO", ButtonAction.UPSCALE_OTHER, {"variant": "upsample_max"}),
    (f"MJ::JOB::low_variation::1::{H}::SOLO", ButtonAction.VARY_SUBTLE, {}),
    (f"MJ::JOB::high_variation::1::{H}::SOLO", ButtonAction.VARY_STRONG, {}),
    (f"MJ::Inpaint::1::{H}::SOLO", ButtonAction.VARY_REGION, {"index": 1}),
    (f"MJ::Outpaint::50::1::{H}::SOLO", ButtonAction.ZOOM_OUT, {"outpaint_percent": 50, "zoom_factor": 2.0}),
    (f"MJ::Outpaint::75::1::{H}::SOLO", ButtonAction.ZOOM_OUT, {"outpaint_percent": 75, "zoom_factor": 1.5}),
    (f"MJ::CustomZoom::{H}", ButtonAction.CUSTOM_ZOOM, {}),
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
        (f"MJ::BOOKMARK::{H}", ButtonAction.BOOKMARK),
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


def test_build_matches_what_midjourney_sends() -> None:
    assert build_custom_id(ButtonAction.UPSAMPLE, job_hash=H, index=2) == f"MJ::JOB::upsample::2::{H}"
    assert build_custom_id(ButtonAction.VARIATION, job_hash=H, index=4) == f"MJ::JOB::variation::4::{H}"
    assert build_custom_id(ButtonAction.REROLL, job_hash=H) == f"MJ::JOB::reroll::0::{H}::SOLO"
    assert build_custom_id(ButtonAction.UPSCALE_SUBTLE, job_hash=H) == f"MJ::JOB::upsample_v6_2x_subtle::1::{H}::SOLO"
    assert (
        build_custom_id(ButtonAction.UPSCALE_CREATIVE, job_hash=H, upscale_model="v6r1")
        == f"MJ::JOB::upsample_v6r1_2x_creative::1::{H}::SOLO"
    )
    assert build_custom_id(ButtonAction.UPSCALE_4X, job_hash=H) == f"MJ::JOB::upsample_v5_4x::1::{H}::SOLO"
    assert build_custom_id(ButtonAction.VARY_STRONG, job_hash=H) == f"MJ::JOB::high_variation::1::{H}::SOLO"
    assert build_custom_id(ButtonAction.VARY_REGION, job_hash=H) == f"MJ::Inpaint::1::{H}::SOLO"
    assert build_custom_id(ButtonAction.ZOOM_OUT, job_hash=H, zoom=1.5) == f"MJ::Outpaint::75::1::{H}::SOLO"
    assert build_custom_id(ButtonAction.CUSTOM_ZOOM, job_hash=H) == f"MJ::CustomZoom::{H}"
    assert build_custom_id(ButtonAction.PAN, job_hash=H, direction="up") == f"MJ::JOB::pan_up::1::{H}::SOLO"
    assert build_custom_id(ButtonAction.DESCRIBE_IMAGINE, index=3) == "MJ::Job::PicReader::3"
    assert build_custom_id(ButtonAction.DESCRIBE_IMAGINE_ALL) == "MJ::Job::PicReader::all"
    assert build_custom_id(ButtonAction.SHORTEN_IMAGINE, index=5) == "MJ::Job::PromptAnalyzer::5"
    assert build_custom_id(ButtonAction.SETTING, setting="RemixMode") == "MJ::Settings::RemixMode"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"action": ButtonAction.UPSAMPLE, "job_hash": H, "index": 5},
        {"action": ButtonAction.UPSAMPLE, "job_hash": "nope", "index": 1},
        {"action": ButtonAction.ZOOM_OUT, "job_hash": H, "zoom": 3},
        {"action": ButtonAction.PAN, "job_hash": H, "direction": "diagonal"},
        {"action": ButtonAction.SHORTEN_IMAGINE},
        {"action": ButtonAction.SETTING},
        {"action": ButtonAction.RATING, "job_hash": H},
        {"action": ButtonAction.UPSCALE_SUBTLE, "job_hash": H, "upscale_model": "v6::x"},
    ],
)
def test_build_rejects_bad_input(kwargs: dict[str, Any]) -> None:
    action = kwargs.pop("action")
    with pytest.raises(ValueError):
        build_custom_id(action, **kwargs)


_buildable = st.one_of(
    st.builds(
        lambda a, h, i: (a, {"job_hash": h, "index": i}),
        st.sampled_from([ButtonAction.UPSAMPLE, ButtonAction.VARIATION]),
        st.uuids().map(str),
        st.integers(1, 4),
    ),
    st.builds(
        lambda a, h, m: (a, {"job_hash": h, "upscale_model": m}),
        st.sampled_from([ButtonAction.UPSCALE_SUBTLE, ButtonAction.UPSCALE_CREATIVE, ButtonAction.UPSCALE_2X]),
        st.uuids().map(str),
        st.sampled_from(["v5", "v6", "v6r1", "v7"]),
    ),
    st.builds(
        lambda a, h: (a, {"job_hash": h}),
        st.sampled_from(
            [
                ButtonAction.REROLL,
                ButtonAction.VARY_SUBTLE,
                ButtonAction.VARY_STRONG,
                ButtonAction.VARY_REGION,
                ButtonAction.CUSTOM_ZOOM,
            ]
        ),
        st.uuids().map(str),
    ),
    st.builds(
        lambda h, z: (ButtonAction.ZOOM_OUT, {"job_hash": h, "zoom": z}), st.uuids().map(str), st.sampled_from([2, 1.5])
    ),
    st.builds(
        lambda h, d: (ButtonAction.PAN, {"job_hash": h, "direction": d}),
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


@given(_buildable)
def test_build_parse_round_trip(spec: tuple[ButtonAction, dict[str, Any]]) -> None:
    action, kwargs = spec
    text = build_custom_id(action, **kwargs)
    parsed = parse_custom_id(text)
    assert parsed.action is action
    assert parsed.render() == text
    for key in ("job_hash", "index", "direction", "upscale_model"):
        if key in kwargs:
            assert getattr(parsed, key) == kwargs[key]
    if "zoom" in kwargs:
        assert parsed.zoom_factor == float(kwargs["zoom"])


@given(st.text(max_size=120) | st.lists(st.text(max_size=10), max_size=6).map("::".join))
def test_parse_render_identity_on_any_text(text: str) -> None:
    parsed = parse_custom_id(text)
    assert parsed.render() == text
    assert parse_custom_id(parsed.render()) == parsed
    assert parse_modal_id(text).render() == text


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


def test_modal_for_button_with_remix_on() -> None:
    v2 = modal_for_button(f"MJ::JOB::variation::2::{H}", remix=True)
    assert v2 is not None and v2.custom_id == f"MJ::RemixModal::{H}::2::0"
    assert v2.text_input_id == "MJ::RemixModal::new_prompt"
    high = modal_for_button(f"MJ::JOB::variation::2::{H}", remix=True, high_variability=True)
    assert high is not None and high.custom_id == f"MJ::RemixModal::{H}::2::1"
    subtle = modal_for_button(f"MJ::JOB::low_variation::1::{H}::SOLO", remix=True, high_variability=True)
    assert subtle is not None and subtle.custom_id == f"MJ::RemixModal::{H}::1::0"
    strong = modal_for_button(f"MJ::JOB::high_variation::1::{H}::SOLO", remix=True)
    assert strong is not None and strong.custom_id == f"MJ::RemixModal::{H}::1::1"
    pan = modal_for_button(f"MJ::JOB::pan_right::1::{H}::SOLO", remix=True)
    assert pan is not None and pan.custom_id == f"MJ::PanModal::right::{H}::1"
    assert pan.text_input_id == "MJ::PanModal::prompt"
    reroll = modal_for_button(f"MJ::JOB::reroll::0::{H}::SOLO", remix=True, message_id="1265485889606516808")
    assert reroll is not None and reroll.custom_id == "MJ::ImagineModal::1265485889606516808"
    with pytest.raises(ValueError, match="message_id"):
        modal_for_button(f"MJ::JOB::reroll::0::{H}::SOLO", remix=True)
    assert modal_for_button(f"MJ::JOB::upsample::1::{H}", remix=True) is None


def test_modal_for_button_with_remix_off() -> None:
    assert modal_for_button(f"MJ::JOB::variation::2::{H}", remix=False) is None
    assert modal_for_button(f"MJ::JOB::pan_left::1::{H}::SOLO", remix=False) is None
    assert modal_for_button(f"MJ::JOB::reroll::0::{H}::SOLO", remix=False) is None
    zoom = modal_for_button(f"MJ::CustomZoom::{H}", remix=False)
    assert zoom is not None and zoom.custom_id == f"MJ::OutpaintCustomZoomModal::{H}"
    region = modal_for_button(CustomId(action=ButtonAction.VARY_REGION, raw="", job_hash=H, index=1), remix=False)
    assert region is not None and region.kind is ModalKind.IFRAME and region.custom_id is None
    describe = modal_for_button("MJ::Job::PicReader::2", remix=False)
    assert describe is not None and describe.custom_id == "MJ::Picreader::Modal::2"
    shorten = modal_for_button("MJ::Job::PromptAnalyzer::1", remix=False, message_id="99")
    assert shorten is not None and shorten.custom_id == "MJ::ImagineModal::99"
    assert modal_for_button("MJ::Job::PicReader::all", remix=True) is None


def test_modal_submit_data_matches_template() -> None:
    """Same shape as TA remix.json / zoom.json ``data``."""
    data = build_modal_submit_data(
        "1240589162912663000", f"MJ::RemixModal::{H}::1::0", "MJ::RemixModal::new_prompt", "a frog"
    )
    assert data == {
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
