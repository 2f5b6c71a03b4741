"""Job hash extraction from every URL/filename shape peers document (protocol notes §3.6)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mjapi.midjourney.hashes import hash_from_custom_id, hash_from_url, is_job_hash

H = "350fb24a-dd72-45f2-ade8-048379a2ed5a"
OTHER = "b56ca21a-1b2c-4d5e-8f90-0123456789ab"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{H}_grid_0.webp", H),
        (f"https://cdn.discordapp.com/attachments/1/2/{H}_grid_0.webp?ex=66&is=65&hm=ab&", H),
        (f"https://media.discordapp.net/ephemeral-attachments/1/2/{H}_grid_0.webp", H),
        (f"frogfan_glass_frog_on_a_lily_pad_{H}.png", H),
        (f"https://cdn.discordapp.com/attachments/1/2/frogfan_glass_frog_{H}.png?ex=1&is=2&hm=3", H),
        (f"https://cdn.midjourney.com/{H}/0_0.png", H),
        (f"https://cdn.midjourney.com/{H}/0_3.webp", H),
        (f"https://cdn.discordapp.com/attachments/1/2/user_prompt_{H}_0_0.png", H),
        (f"https://cdn.discordapp.com/attachments/1/2/user_prompt_{H}_0.mp4", H),
        (f"https://cdn.discordapp.com/attachments/1/2/{H}_3_step_7.jpeg", H),  # GUID fallback (TA)
        (f"https://cdn.discordapp.com/attachments/1/2/frog_{H.upper()}.png", H),  # lower-cased
        (f"https://cdn.discordapp.com/attachments/1/2/frog%20pond_{H}.png", H),  # percent-encoded
        # the slug may itself contain a UUID-looking word; the one next to the extension wins
        (f"https://cdn.discordapp.com/attachments/1/2/u_{OTHER}_{H}.png", H),
        # today's names (issue 8): case kept, "." and "-" in the ~50-character slug, dotted usernames, no latin slug
        # (CJK prompt) -> User__<uuid>, the 2026 u<digits>_ prefix, WebP grids and Animate's mp4
        (f"Frog.Fan_Glass_Frog-on_a.Lily_Pad_Macro-Photography._{H}.png", H),
        (f"frog.fan_Glass_Frog_on_a_Lily_Pad_Macro_Photography._{H}.png", H),
        (f"https://cdn.discordapp.com/attachments/1/2/User__{H}.png?ex=1&is=2&hm=3&", H),
        (f"u1097074882203303911_Glass_Frog_on_a_Lily_Pad_Macro-Photography_{H}.webp", H),
        (f"https://cdn.discordapp.com/attachments/1/2/u1097074882203303911_a.b-c_{H}_0.mp4", H),
        (f"https://media.discordapp.net/attachments/1/2/u42_{H.upper()}.webp?width=512&height=512", H),
        (f"https://cdn.discordapp.com/ephemeral-attachments/1092492867185950852/2/{H}_grid_0.webp", H),
        ("https://cdn.discordapp.com/attachments/1/2/frog.png", None),
        ("", None),
        (None, None),
        (12, None),
    ],
)
def test_hash_from_url(url: object, expected: str | None) -> None:
    assert hash_from_url(url) == expected


def test_hash_from_custom_id_and_text() -> None:
    assert hash_from_custom_id(f"MJ::JOB::upsample::1::{H}") == H
    assert hash_from_custom_id(f"MJ::CustomZoom::{H}") == H
    assert hash_from_custom_id(f"MJ::Outpaint::50::1::{H}::SOLO") == H
    assert hash_from_custom_id("MJ::Job::PicReader::1") is None
    assert hash_from_custom_id(None) is None


def test_is_job_hash() -> None:
    assert is_job_hash(H)
    assert not is_job_hash(H + "0")
    assert not is_job_hash(f" {H}")
    assert not is_job_hash(None)


@given(st.uuids(), st.sampled_from(["{h}_grid_0.webp", "a_b_{h}.png", "x/{h}/0_1.png", "p_{h}_0_0.png"]))
def test_any_uuid_in_any_documented_shape(job: uuid.UUID, shape: str) -> None:
    assert hash_from_url("https://cdn.discordapp.com/attachments/1/2/" + shape.format(h=job)) == str(job)


_SLUG = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", max_size=50)


@given(st.uuids(), _SLUG, st.sampled_from(["", "u1097074882203303911_", "frog.fan_", "User_"]))
def test_any_slug_and_prefix_of_todays_names(job: uuid.UUID, slug: str, prefix: str) -> None:
    for ext in ("png", "webp"):
        assert hash_from_url(f"https://cdn.discordapp.com/attachments/1/2/{prefix}{slug}_{job}.{ext}") == str(job)


@given(st.text(max_size=200))
def test_hash_from_url_never_raises(text: str) -> None:
    found = hash_from_url(text)
    assert found is None or is_job_hash(found)
