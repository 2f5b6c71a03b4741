"""Every API flow end to end over loopback: API -> Discord REST (simulator) -> gateway -> relay -> table -> API."""

from __future__ import annotations

import io
import logging
import time

import pytest
from PIL import Image

from devstack.stack import RunningStack
from tests.e2e.conftest import ADMIN, Client


def _png(color: tuple[int, int, int] = (10, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), color).save(out, format="PNG")
    return out.getvalue()


def test_imagine_progress_then_grid_on_our_cdn(client: Client, stack: RunningStack) -> None:
    token = client.token()
    resp = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "a lighthouse at dusk --ar 3:2"})
    assert resp.status_code == 200, resp.text
    job = resp.json()
    assert job["status"] in ("submitted", "waiting", "running")
    seen_progress = client.wait_job(token, job["id"], until=lambda b: b["status"] != "submitted")
    assert seen_progress["status"] in ("waiting", "running", "succeeded")
    done = client.wait_job(token, job["id"])
    assert done["status"] == "succeeded", done
    assert done["progress"] == 100
    image = done["images"][0]
    assert image["url"].startswith(f"{stack.api_url}/cdn/images/")
    labels = [b["label"] for row in image["actions"] for b in row]
    assert {"U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4"} <= set(labels)
    cdn = client.http.get(image["url"])
    assert cdn.status_code == 200
    assert cdn.headers["content-type"] == "image/webp"  # today's (v7) grids are WebP, as the bot's are
    with Image.open(io.BytesIO(cdn.content)) as img:
        width, height = img.size
        assert img.format == "WEBP"
    assert abs(width / height - 1.5) < 0.05  # --ar 3:2
    progress = client.http.get("/midjourney/progress", params={"token": token, "id": job["id"]}).json()
    assert progress["percentage"] == 100
    assert progress["image_url"] == image["url"]


def test_progress_shows_percent_and_a_preview_on_our_cdn(client: Client, stack: RunningStack) -> None:
    token = client.token()
    job = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "a slow sunrise simslow"}).json()
    running = client.wait_job(token, job["id"], until=lambda b: b["status"] == "running" and bool(b["preview_url"]))
    assert 0 < running["progress"] < 100
    assert running["preview_url"].startswith(f"{stack.api_url}/cdn/previews/")
    preview = client.http.get(running["preview_url"])
    assert preview.status_code == 200
    assert preview.headers["content-type"] in ("image/webp", "image/png")
    progress = client.http.get("/midjourney/progress", params={"token": token, "id": job["id"]}).json()
    assert progress["percentage"] >= running["progress"]
    assert client.wait_job(token, job["id"])["status"] == "succeeded"


def test_every_grid_button_u1_u4_v1_v4_and_reroll(client: Client) -> None:
    token = client.token()
    job = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "a paper boat"}).json()
    grid = client.wait_job(token, job["id"])
    assert grid["status"] == "succeeded", grid
    image = grid["images"][0]
    by_label = {("reroll" if "::reroll::" in b["id"] else b["label"]): b["id"] for row in image["actions"] for b in row}
    labels = ["U1", "U2", "U3", "U4", "V1", "V2", "V3", "V4", "reroll"]
    children = []
    for label in labels:
        resp = client.http.get(
            "/midjourney/action", params={"token": token, "image": image["id"], "action": by_label[label]}
        )
        assert resp.status_code == 200, resp.text
        children.append(resp.json()["action_job_id"])
    finished = [client.wait_job(token, child) for child in children]
    assert [f["status"] for f in finished] == ["succeeded"] * 9, finished
    for label, child in zip(labels, finished, strict=True):
        assert child["images"][0]["url"].startswith(client.stack.api_url)
        buttons = {b["label"] for row in child["images"][0]["actions"] for b in row}
        if label.startswith("U"):
            assert child["images"][0]["upscaled"] is True
            assert any("Upscale" in b or "Vary" in b for b in buttons), buttons  # single-image tools
        else:
            assert child["images"][0]["upscaled"] is False
            assert {"U1", "V1"} <= buttons  # variations and rerolls are new grids
    thread = client.http.get("/midjourney/job", params={"token": token, "id": job["id"]}).json()
    assert thread["tasks"] == 10
    assert len(thread["images"]) == 10
    assert sum(1 for i in thread["images"] if i["upscaled"]) == 4


def test_describe_upload_gives_four_prompts(client: Client) -> None:
    token = client.token()
    resp = client.http.post(
        "/midjourney/describe", params={"token": token}, files={"image": ("boat.png", _png(), "image/png")}
    )
    assert resp.status_code == 200, resp.text
    job_id = resp.json()["id"]
    deadline = time.monotonic() + 45
    body = {}
    while time.monotonic() < deadline:
        body = client.http.get("/midjourney/descjob", params={"token": token, "id": job_id}).json()
        if body["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    assert body["status"] == "succeeded", body
    assert len(body["desc"][0]["prompts"]) == 4
    assert body["image_url"].startswith(client.stack.api_url)


def test_switch_info_and_modes(client: Client, stack: RunningStack) -> None:
    fast = next(a for a in stack.accounts if a["mode"] == "fast")
    info = client.http.get(
        "/midjourney/switch", params={"type": "info", "client_id": fast["channel_id"]}, headers={"x-admin-key": ADMIN}
    )
    assert info.status_code == 200, info.text
    body = info.json()
    assert body["status"] == "succeeded", body
    assert body["result"]["job_mode"] == "fast"
    assert body["result"]["fast_time_remaining_hours"] is not None
    relax = client.http.get(
        "/midjourney/switch", params={"type": "relax", "client_id": fast["channel_id"]}, headers={"x-admin-key": ADMIN}
    ).json()
    assert relax["status"] == "succeeded", relax
    devices = {
        d["device"]: d for d in client.http.get("/midjourney/get_devices", headers={"x-admin-key": ADMIN}).json()
    }
    assert devices[fast["id"]]["patternType"] == "relax"
    back = client.http.get(
        "/midjourney/switch", params={"type": "fast", "client_id": fast["channel_id"]}, headers={"x-admin-key": ADMIN}
    ).json()
    assert back["status"] == "succeeded", back


def test_mode_routing_and_history(client: Client, stack: RunningStack) -> None:
    token = client.token()
    relax_account = next(a for a in stack.accounts if a["mode"] == "relax")
    job = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "slow clouds", "mode": "relax"})
    assert job.status_code == 200, job.text
    assert job.json()["client_id"] == relax_account["channel_id"]
    done = client.wait_job(token, job.json()["id"])
    assert done["status"] == "succeeded"
    history = client.http.get("/midjourney/history", params={"token": token}).json()["data"]
    assert history[0]["job_id"] == job.json()["id"]
    assert history[0]["images_url"][0].startswith(client.stack.api_url)


@pytest.mark.parametrize(
    ("prompt", "code"),
    [
        ("a simbanned scene", "banned_prompt"),
        ("a simfilter scene", "image_filter"),
        ("a simfail scene", "could_not_complete"),
    ],
)
def test_bot_refusals_fail_the_job_with_the_bots_reason(
    client: Client, stack: RunningStack, prompt: str, code: str
) -> None:
    token = client.token()
    job = client.http.get("/midjourney/imagine", params={"token": token, "prompt": prompt}).json()
    failed = client.wait_job(token, job["id"])
    assert failed["status"] == "failed", failed
    assert failed["error"]["code"] == code
    assert failed["error"]["message"]
    devices = client.http.get("/midjourney/get_devices", headers={"x-admin-key": ADMIN}).json()
    assert all(d["health"] == "ok" for d in devices)


def test_upscale_true_presses_u1_for_the_caller(client: Client) -> None:
    token = client.token(count=1)
    job = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "a red kite", "upscale": "true"})
    assert job.status_code == 200, job.text
    assert job.json()["upscale"] is True

    def upscaled(body: dict[str, object]) -> bool:
        children = body["children"]
        return isinstance(children, list) and any(c["status"] == "succeeded" for c in children)

    thread = client.wait_job(token, job.json()["id"], until=upscaled)
    assert thread["tasks"] == 2
    assert [i["upscaled"] for i in thread["images"]] == [False, True]
    assert thread["children"][0]["action"].startswith("MJ::JOB::upsample::1::")
    # The automatic U1 was not charged again: the one-use token is spent only by the imagine.
    refused = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "one more"})
    assert refused.status_code == 403


def test_no_secret_reaches_the_logs(client: Client, stack: RunningStack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    token = client.token()
    job = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "a quiet harbour"}).json()
    assert client.wait_job(token, job["id"])["status"] == "succeeded"
    wrong = "mjk_" + "w" * 43  # shaped like a real token, but unknown
    client.http.get("/midjourney/imagine", params={"token": wrong, "prompt": "x"})
    logged = caplog.text
    assert logged  # the stack did log (at DEBUG): the check below is not vacuous
    for account in stack.accounts:
        assert account["token"] not in logged
    assert token not in logged
    assert wrong not in logged


def test_a_form_without_a_prompt_is_filled_with_the_bots_prefill(client: Client) -> None:
    """Custom Zoom always opens a form: with no prompt from the caller, the relay submits the bot's prefilled text
    (the prompt with --zoom 2) and the job succeeds instead of stalling."""
    token = client.token()
    grid = client.wait_job(
        token, client.http.get("/midjourney/imagine", params={"token": token, "prompt": "a tall tower"}).json()["id"]
    )
    upscale_id = client.http.get(
        "/midjourney/action", params={"token": token, "job": grid["id"], "action": "U1"}
    ).json()["action_job_id"]
    upscale = client.wait_job(token, upscale_id)
    custom_zoom = next(b["id"] for row in upscale["images"][0]["actions"] for b in row if "CustomZoom" in b["id"])
    child = client.http.get("/midjourney/action", params={"token": token, "job": upscale_id, "action": custom_zoom})
    assert child.status_code == 200, child.text
    zoomed = client.wait_job(token, child.json()["action_job_id"])
    assert zoomed["status"] == "succeeded", zoomed
    assert "--zoom 2" in zoomed["final_prompt"]


def test_describe_by_link(client: Client) -> None:
    token = client.token()
    resp = client.http.post("/midjourney/describe_link", json={"token": token, "link": "https://example.com/cat.png"})
    assert resp.status_code == 200, resp.text
    job_id = resp.json()["id"]
    deadline = time.monotonic() + 30
    body: dict[str, object] = {}
    while time.monotonic() < deadline:
        body = client.http.get("/midjourney/descjob", params={"token": token, "id": job_id}).json()
        if body["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert body["status"] == "succeeded", body
    desc = body["desc"]
    assert isinstance(desc, list) and len(desc[0]["prompts"]) == 4
