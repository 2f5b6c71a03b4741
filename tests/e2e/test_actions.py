"""Every button of today's bot through /midjourney/action, end to end: grids, single images, forms (remix, custom
zoom, pan with a prompt), the Vary (Region) editor with a mask, with Remix mode off and on."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from mjapi.service.context import Context
from tests.e2e.conftest import ADMIN, Client


def _mask() -> str:
    """A Vary (Region) mask as a data URL: black, with the area to repaint white."""
    out = io.BytesIO()
    mask = Image.new("L", (64, 64), 0)
    mask.paste(255, (16, 16, 48, 48))
    mask.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _size(client: Client, url: str) -> tuple[int, int]:
    resp = client.http.get(url)
    assert resp.status_code == 200, url
    with Image.open(io.BytesIO(resp.content)) as img:
        return img.size


def _press(client: Client, token: str, job_id: str, action: str, **extra: Any) -> str:
    resp = client.http.post("/midjourney/action", json={"token": token, "job": job_id, "action": action, **extra})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["action_job_id"])


def _imagine(client: Client, token: str, prompt: str, bot: str = "mj") -> dict[str, Any]:
    resp = client.http.get("/midjourney/imagine", params={"token": token, "prompt": prompt, "bot": bot})
    assert resp.status_code == 200, resp.text
    done = client.wait_job(token, resp.json()["id"])
    assert done["status"] == "succeeded", done
    return done


def _buttons(job: dict[str, Any]) -> dict[str, str]:
    """label (or emoji when there is no label) -> custom_id of the job's own image."""
    return {b["label"]: b["id"] for row in job["images"][0]["actions"] for b in row}


def _remix(client: Client, account: str, wanted: bool, bot: str = "mj") -> None:
    """Toggle /prefer remix on the account's bot until it is as wanted (the bot's reply says which way it went)."""
    for _ in range(2):
        resp = client.http.get(
            "/midjourney/switch",
            params={"type": "remix", "account": account, "bot": bot},
            headers={"x-admin-key": ADMIN},
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        assert body["status"] == "succeeded", body
        if body["result"]["remix"] is wanted:
            return
    raise AssertionError(f"remix did not turn {wanted}")


def test_every_single_image_button_with_remix_off(client: Client) -> None:
    token = client.token()
    grid = _imagine(client, token, "a tin robot in a meadow --v 6.1")
    grid_size = _size(client, grid["images"][0]["url"])
    upscale = client.wait_job(token, _press(client, token, grid["id"], "U2"))
    assert upscale["status"] == "succeeded", upscale
    single = upscale["images"][0]
    assert single["upscaled"] is True
    assert _size(client, single["url"]) == (grid_size[0] // 2, grid_size[1] // 2)  # one tile of the grid
    labels = _buttons(upscale)
    pressed = {
        "Upscale (Subtle)": {},
        "Upscale (Creative)": {},
        "Vary (Subtle)": {},
        "Vary (Strong)": {},
        "Vary (Region)": {"mask": _mask(), "prompt": "a tin robot holding a red balloon"},
        "Zoom Out 2x": {},
        "Zoom Out 1.5x": {},
        "Custom Zoom": {"prompt": "a tin robot in a meadow --zoom 1.8"},
        "⬅️": {},
        "➡️": {"prompt": "a tin robot in a meadow, a river to the right"},
        "⬆️": {},
        "⬇️": {},
    }
    children = {label: _press(client, token, upscale["id"], label, **extra) for label, extra in pressed.items()}
    finished = {label: client.wait_job(token, job_id) for label, job_id in children.items()}
    assert {label: f["status"] for label, f in finished.items()} == dict.fromkeys(pressed, "succeeded")
    for label, job in finished.items():
        image = job["images"][0]
        assert image["url"].startswith(client.stack.api_url)
        assert image["upscaled"] is label.startswith("Upscale"), label
        assert job["parent_id"] == upscale["id"]
        assert job["action"] and job["index"] == (None if label == "Custom Zoom" else 1), job
    tile = _size(client, single["url"])
    assert _size(client, finished["Upscale (Subtle)"]["images"][0]["url"]) == (tile[0] * 2, tile[1] * 2)
    right = _size(client, finished["➡️"]["images"][0]["url"])
    assert right[0] > right[1]  # a pan right widens the canvas
    assert "--zoom" in (finished["Custom Zoom"]["final_prompt"] or "")
    assert labels["Custom Zoom"].startswith("MJ::CustomZoom::")


def test_v5_upscales_and_reroll(client: Client) -> None:
    token = client.token()
    grid = _imagine(client, token, "an old lantern --v 5.1")  # the v5.0/5.1 layout has the 2x/4x upscalers
    upscale = client.wait_job(token, _press(client, token, grid["id"], "U1"))
    tile = _size(client, upscale["images"][0]["url"])
    two = client.wait_job(token, _press(client, token, upscale["id"], "Upscale (2x)"))
    four = client.wait_job(token, _press(client, token, upscale["id"], "Upscale (4x)"))
    assert two["images"][0]["upscaled"] is True and four["images"][0]["upscaled"] is True
    assert _size(client, two["images"][0]["url"]) == (tile[0] * 2, tile[1] * 2)
    assert _size(client, four["images"][0]["url"]) == (tile[0] * 4, tile[1] * 4)
    reroll = client.wait_job(token, _press(client, token, grid["id"], "🔄"))
    assert reroll["status"] == "succeeded" and reroll["images"][0]["upscaled"] is False


@pytest.mark.parametrize(("bot", "version"), [("mj", "--v 6.1"), ("niji", "--niji 6")])
def test_forms_with_remix_on_use_the_callers_prompt_or_the_jobs(client: Client, bot: str, version: str) -> None:
    token = client.token()
    devices = client.http.get("/midjourney/get_devices", headers={"x-admin-key": ADMIN}).json()
    accounts = [d["device"] for d in devices]  # the imagine may run on any of them
    for account in accounts:
        _remix(client, account, True, bot)
    try:
        grid = _imagine(client, token, f"a glass teapot {version}", bot)
        assert grid["images"][0]["id"]
        remixed = client.wait_job(token, _press(client, token, grid["id"], "V1", prompt=f"a copper teapot {version}"))
        plain = client.wait_job(token, _press(client, token, grid["id"], "V2"))
        reroll = client.wait_job(token, _press(client, token, grid["id"], "🔄", prompt=f"a glass kettle {version}"))
        assert [j["status"] for j in (remixed, plain, reroll)] == ["succeeded"] * 3, (remixed, plain, reroll)
        assert "copper" in remixed["final_prompt"]
        assert remixed["prompt"] == f"a copper teapot {version}"  # the job's prompt is the one the caller wrote
        assert "glass teapot" in plain["final_prompt"] and "glass teapot" in plain["prompt"]
        assert "kettle" in reroll["final_prompt"]
        single = client.wait_job(token, _press(client, token, grid["id"], "U3"))
        pan = client.wait_job(token, _press(client, token, single["id"], "⬇️", prompt="a glass teapot on a table"))
        assert pan["status"] == "succeeded" and "table" in pan["final_prompt"]
        assert {j["bot"] for j in (remixed, plain, reroll, single, pan)} == {bot}
    finally:
        for account in accounts:
            _remix(client, account, False, bot)


def test_bad_inputs_are_clear_4xx(client: Client) -> None:
    token = client.token()
    grid = _imagine(client, token, "a folded map")
    single = client.wait_job(token, _press(client, token, grid["id"], "U4"))
    cases = [
        ({"job": single["id"], "action": "Vary (Region)"}, 400, "mask_required"),
        ({"job": single["id"], "action": "Vary (Region)", "mask": "not base64!"}, 400, "invalid_mask"),
        ({"job": single["id"], "action": "⬅️", "mask": _mask()}, 400, "mask_not_accepted"),
        ({"job": grid["id"], "action": "U1", "prompt": "something else"}, 400, "prompt_not_accepted"),
        ({"job": grid["id"], "action": "Make it pop"}, 400, "unknown_action"),
        ({"job": grid["id"], "action": "V1", "prompt": "a map --bogus 1"}, 400, "invalid_parameter"),
    ]
    for body, status, code in cases:
        resp = client.http.post("/midjourney/action", json={"token": token, **body})
        assert resp.status_code == status, (body, resp.text)
        assert resp.json()["code"] == code, (body, resp.text)


def test_make_square_on_a_wide_image(client: Client) -> None:
    token = client.token()
    grid = _imagine(client, token, "a long train on a bridge --ar 3:2 --v 6.1")
    single = client.wait_job(token, _press(client, token, grid["id"], "U1"))
    assert "Make Square" in _buttons(single)
    square = client.wait_job(token, _press(client, token, single["id"], "Make Square"))
    assert square["status"] == "succeeded", square
    width, height = _size(client, square["images"][0]["url"])
    assert width == height


def test_describe_buttons_imagine_a_described_prompt_or_all_of_them(client: Client) -> None:
    token = client.token()
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 40, 40)).save(out, format="PNG")
    resp = client.http.post(
        "/midjourney/describe", params={"token": token}, files={"image": ("red.png", out.getvalue(), "image/png")}
    )
    assert resp.status_code == 200, resp.text
    described = client.wait_job(token, resp.json()["id"])
    assert described["status"] == "succeeded", described
    prompts = client.http.get("/midjourney/descjob", params={"token": token, "id": described["id"]}).json()
    [entry] = prompts["desc"]
    before = client.http.get("/midjourney/history", params={"token": token}).json()
    second = _press(client, token, described["id"], "2️⃣")
    job = client.wait_job(token, second)
    assert job["status"] == "succeeded", job
    assert entry["prompts"][1].split(" --")[0] in job["final_prompt"]
    resp = client.http.post("/midjourney/action", json={"token": token, "job": described["id"], "action": "🎉"})
    assert resp.status_code == 200, resp.text
    all_four = resp.json()["action_job_ids"]
    assert len(all_four) == 4
    finished = [client.wait_job(token, job_id) for job_id in all_four]
    assert [f["status"] for f in finished] == ["succeeded"] * 4
    assert len(client.http.get("/midjourney/history", params={"token": token}).json()["data"]) == (
        len(before["data"]) + 5
    )


def test_niji_is_a_per_request_choice_on_the_same_accounts(client: Client) -> None:
    """Every demo account offers both bots over its one gateway session; bot=niji needs no account of its own."""
    token = client.token()
    devices = client.http.get("/midjourney/get_devices", headers={"x-admin-key": ADMIN}).json()
    assert all(set(d["bots"]) == {"mj", "niji"} for d in devices), devices
    resp = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "a fox in snow", "bot": "niji"})
    assert resp.status_code == 200, resp.text
    grid = client.wait_job(token, resp.json()["id"])
    assert grid["status"] == "succeeded" and grid["bot"] == "niji", grid
    single = client.wait_job(token, _press(client, token, grid["id"], "U1"))
    assert single["status"] == "succeeded" and single["bot"] == "niji"
    vary = client.wait_job(token, _press(client, token, single["id"], "Vary (Strong)"))
    assert vary["status"] == "succeeded" and vary["bot"] == "niji"
    account = devices[0]["device"]
    resp = client.http.get(
        "/midjourney/switch",
        params={"type": "settings", "account": account, "bot": "niji"},
        headers={"x-admin-key": ADMIN},
    )
    assert resp.status_code == 200 and resp.json()["status"] == "succeeded", resp.text
    assert "remix" in resp.json()["result"]


def test_animate_makes_four_videos_and_u_gives_one_as_an_mp4_on_our_cdn(client: Client) -> None:
    """Today's bot (v7, the default) offers Animate under single images: a video job whose result is an animated grid
    of four videos; U1-U4 under it give one of them as an mp4, under Extend. Each is billed like any action."""
    token = client.token(count=6)
    grid = _imagine(client, token, "a paper lantern drifting")
    single = client.wait_job(token, _press(client, token, grid["id"], "U1"))
    assert "Animate (High motion)" in _buttons(single)
    videos = client.wait_job(token, _press(client, token, single["id"], "Animate (High motion)"))
    assert videos["status"] == "succeeded", videos
    [sheet] = [i for i in videos["images"] if i["job_id"] == videos["id"]]
    assert sheet["content_type"] == "image/webp" and not sheet["upscaled"] and not videos["video_url"]
    under = _buttons(videos)
    assert list(under)[:4] == ["U1", "U2", "U3", "U4"] and "video_virtual_upscale::2::" in under["U2"]
    animated = client.http.get(sheet["url"])
    assert animated.status_code == 200 and animated.content[8:12] == b"WEBP" and b"ANIM" in animated.content[:64]

    video = client.wait_job(token, _press(client, token, videos["id"], "U2"))
    assert video["status"] == "succeeded" and video["action"] == "video_upscale", video
    assert video["video_url"] and video["video_url"].startswith(client.stack.api_url)
    clip = client.http.get(video["video_url"])
    assert clip.status_code == 200 and clip.headers["content-type"] == "video/mp4"
    assert clip.content[4:8] == b"ftyp"  # an ISO media file
    assert "Extend (Low motion)" in _buttons(video)
    longer = client.wait_job(token, _press(client, token, video["id"], "Extend (Low motion)"))
    assert longer["status"] == "succeeded" and longer["video_url"], longer
    used = client.http.get("/midjourney/history", params={"token": token}).json()["data"]
    assert len(used) == 5  # imagine, U1, Animate, U2 of the videos, Extend: each one use


def test_cancel_a_running_button_job_through_its_cancel_button(client: Client) -> None:
    """Today's button jobs show their progress on an ephemeral message whose Cancel Job button stops them."""
    token = client.token(count=5)
    grid = _imagine(client, token, "a long corridor")
    single = client.wait_job(token, _press(client, token, grid["id"], "U2"))
    stuck = _press(client, token, single["id"], "Custom Zoom", prompt="a long corridor simstall --zoom 2")
    running = client.wait_job(token, stuck, until=lambda b: b["status"] == "running")
    assert running["status"] == "running"
    stored = Context.current().jobs.get(stuck)
    assert stored is not None and stored.cancel_custom_id and stored.cancel_custom_id.startswith("MJ::CancelJob::")
    resp = client.http.post("/midjourney/cancel", params={"token": token, "id": stuck})
    assert resp.status_code == 200, resp.text
    assert client.wait_job(token, stuck)["status"] == "cancelled"
