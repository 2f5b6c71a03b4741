"""Blend, shorten, seed, cancel and show end to end: API -> Discord REST (simulator) -> gateway -> relay -> API."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import pytest
from PIL import Image

from devstack.stack import RunningStack
from mjapi.ids import hash_token
from mjapi.settings import get_settings
from mjapi.store.jobs import JobStore
from mjapi.store.table import Table
from mjapi.store.tokens import get_token
from tests.e2e.conftest import ADMIN, Client

FINISHED = ("succeeded", "failed", "cancelled")


def _png(color: tuple[int, int, int], size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format="PNG")
    return out.getvalue()


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def _remaining(token: str) -> int:
    found = get_token(Table(get_settings().table_name), hash_token(token))
    assert found is not None
    return found.remaining


def _stored_job_hash(job_id: str) -> str:
    job = JobStore(Table(get_settings().table_name)).get(job_id)
    assert job is not None and job.message_hash
    return job.message_hash


def _grid(client: Client, token: str, prompt: str, **params: str) -> dict[str, Any]:
    resp = client.http.get("/midjourney/imagine", params={"token": token, "prompt": prompt, **params})
    assert resp.status_code == 200, resp.text
    done = client.wait_job(token, resp.json()["id"])
    assert done["status"] == "succeeded", done
    return done


def _press(client: Client, token: str, job_id: str, action: str) -> dict[str, Any]:
    resp = client.http.get("/midjourney/action", params={"token": token, "job": job_id, "action": action})
    assert resp.status_code == 200, resp.text
    return client.wait_job(token, resp.json()["action_job_id"])


def _cdn_size(client: Client, url: str) -> tuple[int, int]:
    assert url.startswith(f"{client.stack.api_url}/cdn/images/")
    cdn = client.http.get(url)
    assert cdn.status_code == 200
    assert cdn.headers["content-type"] in ("image/png", "image/webp")  # grids are WebP since v7
    with Image.open(io.BytesIO(cdn.content)) as img:
        assert img.format.lower() == cdn.headers["content-type"].split("/")[1]
        return img.size


def _error(resp: Any, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json()["code"] == code, resp.text
    assert resp.json()["message"]


# -- blend -----------------------------------------------------------------------------------------------------------


def test_blend_multipart_gives_a_landscape_grid_whose_buttons_work(client: Client) -> None:
    token = client.token(count=10)
    files = [(f"image{n}", (f"in{n}.png", _png((40 * n, 90, 200 - 30 * n)), "image/png")) for n in (1, 2, 3)]
    resp = client.http.post("/midjourney/blend", params={"token": token}, files=files, data={"dimensions": "landscape"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["kind"] == "blend"
    assert _remaining(token) == 9  # charged one use
    done = client.wait_job(token, resp.json()["id"])
    assert done["status"] == "succeeded", done
    image = done["images"][0]
    width, height = _cdn_size(client, image["url"])
    assert abs(width / height - 1.5) < 0.05  # --ar 3:2
    assert (image["width"], image["height"]) == (width, height)
    assert "--ar 3:2" in done["final_prompt"]
    u1 = next(b["id"] for row in image["actions"] for b in row if b["label"] == "U1")
    upscale = _press(client, token, done["id"], u1)
    assert upscale["status"] == "succeeded", upscale
    assert upscale["images"][0]["upscaled"] is True


def test_blend_json_base64_and_repeated_images_field(client: Client) -> None:
    token = client.token()
    body = {"token": token, "base64Array": [_data_url(_png((200, 10, 10))), _data_url(_png((10, 200, 10)))]}
    resp = client.http.post("/midjourney/blend", json={**body, "dimensions": "PORTRAIT"})
    assert resp.status_code == 200, resp.text
    portrait = client.wait_job(token, resp.json()["id"])
    assert portrait["status"] == "succeeded", portrait
    width, height = _cdn_size(client, portrait["images"][0]["url"])
    assert abs(width / height - 2 / 3) < 0.05

    files = [("images", (f"x{n}.png", _png((n * 50, 50, 50)), "image/png")) for n in (1, 2)]
    square = client.http.post("/midjourney/blend", params={"token": token}, files=files)
    assert square.status_code == 200, square.text
    done = client.wait_job(token, square.json()["id"])
    assert done["status"] == "succeeded", done
    width, height = _cdn_size(client, done["images"][0]["url"])
    assert width == height  # no dimensions: the bot's default, square


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"base64Array": [_data_url(_png((1, 2, 3)))]}, "invalid_image_count"),
        ({"base64Array": [_data_url(_png((n, 2, 3))) for n in range(6)]}, "invalid_image_count"),
        ({"base64Array": [_data_url(_png((1, 2, 3))), "not base64 at all!"]}, "invalid_image"),
        (
            {"base64Array": [_data_url(_png((1, 2, 3))), base64.b64encode(b"plain text, no image").decode()]},
            "invalid_image",
        ),
        (
            {"base64Array": [_data_url(_png((1, 2, 3))), _data_url(_png((4, 5, 6)))], "dimensions": "wide"},
            "invalid_dimensions",
        ),
    ],
)
def test_blend_refuses_bad_input_without_charging(client: Client, body: dict[str, Any], code: str) -> None:
    token = client.token(count=3)
    _error(client.http.post("/midjourney/blend", json={"token": token, **body}), 400, code)
    assert _remaining(token) == 3


def test_blend_needs_a_token(client: Client) -> None:
    body = {"base64Array": [_data_url(_png((1, 2, 3))), _data_url(_png((4, 5, 6)))]}
    _error(client.http.post("/midjourney/blend", json=body), 401, "unauthorized")


# -- shorten ---------------------------------------------------------------------------------------------------------


def _shortened(client: Client, token: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.http.get("/midjourney/shortenjob", params={"token": token, "id": job_id}).json()
        if body["status"] in FINISHED:
            return body
        time.sleep(0.2)
    raise AssertionError(f"shorten job {job_id} did not finish: {body}")


def test_shorten_gives_five_prompts_and_a_pressed_one_is_imagined(client: Client) -> None:
    token = client.token(count=10)
    prompt = "a very detailed, highly intricate, beautiful and majestic old lighthouse on a rocky cliff at sunset"
    resp = client.http.get("/midjourney/shorten", params={"token": token, "prompt": prompt})
    assert resp.status_code == 200, resp.text
    assert resp.json()["prompt"] == prompt
    done = _shortened(client, token, resp.json()["id"])
    assert done["status"] == "succeeded", done
    assert len(done["prompts"]) == 5
    assert all(p.strip() for p in done["prompts"])
    ids = [b["id"] for row in done["actions"] for b in row]
    assert [f"MJ::Job::PromptAnalyzer::{n}" for n in range(1, 6)] == ids[:5]
    before = _remaining(token)
    imagined = _press(client, token, done["id"], "2️⃣")  # by its emoji label
    assert imagined["status"] == "succeeded", imagined
    assert imagined["final_prompt"].startswith(done["prompts"][1].split(" --")[0])
    assert {"U1", "V1"} <= {b["label"] for row in imagined["images"][0]["actions"] for b in row}
    assert _remaining(token) == before - 1
    by_id = _press(client, token, done["id"], "MJ::Job::PromptAnalyzer::5")  # by its custom_id
    assert by_id["status"] == "succeeded", by_id
    assert by_id["final_prompt"].startswith(done["prompts"][4].split(" --")[0])


def test_shorten_post_json_and_bad_prompt(client: Client) -> None:
    token = client.token()
    resp = client.http.post("/midjourney/shorten", json={"token": token, "prompt": "a cat sitting on a red mat"})
    assert resp.status_code == 200, resp.text
    assert _shortened(client, token, resp.json()["id"])["status"] == "succeeded"
    _error(client.http.post("/midjourney/shorten", json={"token": token, "prompt": "   "}), 400, "invalid_prompt")


# -- seed ------------------------------------------------------------------------------------------------------------


def test_seed_comes_from_the_bots_dm_and_is_kept(client: Client, stack: RunningStack) -> None:
    token = client.token(count=5)
    grid = _grid(client, token, "a seed in the wind")
    remaining = _remaining(token)
    resp = client.http.get("/midjourney/seed", params={"token": token, "id": grid["id"]})
    assert resp.status_code == 200, resp.text
    sim_job = stack.simulator.job(_stored_job_hash(grid["id"]))
    assert resp.json() == {"id": grid["id"], "seed": sim_job.seed}
    again = client.http.post("/midjourney/seed", json={"token": token, "id": grid["id"]})
    assert again.status_code == 200, again.text
    assert again.json()["seed"] == sim_job.seed
    assert _remaining(token) == remaining  # free


def test_seed_errors(client: Client) -> None:
    token = client.token()
    _error(client.http.get("/midjourney/seed", params={"token": token, "id": "no-such-job"}), 404, "job_not_found")
    other = client.token()
    grid = _grid(client, other, "someone else's seed")
    _error(client.http.get("/midjourney/seed", params={"token": token, "id": grid["id"]}), 404, "job_not_found")
    running = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "not yet simstall"}).json()
    _error(client.http.get("/midjourney/seed", params={"token": token, "id": running["id"]}), 409, "seed_unavailable")
    assert client.http.get("/midjourney/cancel", params={"token": token, "id": running["id"]}).status_code == 200


# -- cancel ----------------------------------------------------------------------------------------------------------


def test_cancel_a_running_job_stops_it_and_refunds(client: Client, stack: RunningStack) -> None:
    token = client.token(count=5)
    job = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "an endless road simstall"}).json()
    client.wait_job(token, job["id"], until=lambda b: b["status"] == "running")
    assert _remaining(token) == 4
    resp = client.http.post("/midjourney/cancel", params={"token": token, "id": job["id"]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "cancelled"
    assert resp.json()["error"] is None
    assert _remaining(token) == 5
    assert stack.simulator.job(_stored_job_hash(job["id"])).status == "cancelled"
    _error(client.http.get("/midjourney/cancel", params={"token": token, "id": job["id"]}), 409, "job_finished")


def test_cancel_a_queued_job_refunds_at_once(client: Client, stack: RunningStack) -> None:
    token = client.token(count=10)
    relax = next(
        d
        for d in client.http.get("/midjourney/get_devices", headers={"x-admin-key": ADMIN}).json()
        if d["patternType"] == "relax"
    )
    busy = []
    for n in range(relax["concurrency"]):  # every relax slot taken by a job that runs until cancelled
        resp = client.http.get(
            "/midjourney/imagine", params={"token": token, "prompt": f"wait {n} simstall", "mode": "relax"}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["status"] != "queued"
        busy.append(resp.json()["id"])
    queued = client.http.get("/midjourney/imagine", params={"token": token, "prompt": "in line", "mode": "relax"})
    assert queued.json()["status"] == "queued", queued.text
    assert _remaining(token) == 10 - len(busy) - 1
    resp = client.http.post("/midjourney/cancel", json={"token": token, "id": queued.json()["id"]})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "cancelled"
    assert _remaining(token) == 10 - len(busy)
    waiting = client.http.get("/midjourney/get_queue", headers={"x-admin-key": ADMIN}).json()
    assert waiting["data"] == 0
    for job_id in busy:
        client.wait_job(token, job_id, until=lambda b: b["status"] == "running")
        cancelled = client.http.get("/midjourney/cancel", params={"token": token, "id": job_id})
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
    assert _remaining(token) == 10
    assert client.wait_job(token, queued.json()["id"])["status"] == "cancelled"  # never dispatched afterwards


def test_cancel_only_by_its_owner_or_the_admin(client: Client) -> None:
    owner, other = client.token(), client.token()
    job = client.http.get("/midjourney/imagine", params={"token": owner, "prompt": "mine simstall"}).json()
    _error(client.http.get("/midjourney/cancel", params={"token": other, "id": job["id"]}), 404, "job_not_found")
    _error(client.http.get("/midjourney/cancel", params={"token": owner, "id": "nope"}), 404, "job_not_found")
    client.wait_job(owner, job["id"], until=lambda b: b["status"] == "running")
    resp = client.http.get("/midjourney/cancel", params={"id": job["id"]}, headers={"x-admin-key": ADMIN})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "cancelled"


# -- show ------------------------------------------------------------------------------------------------------------


def test_show_adopts_a_job_by_its_uuid_and_its_buttons_work(client: Client, stack: RunningStack) -> None:
    token = client.token(count=5)
    grid = _grid(client, token, "a castle to adopt")
    job_hash = _stored_job_hash(grid["id"])
    remaining = _remaining(token)
    resp = client.http.get("/midjourney/show", params={"token": token, "job_hash": job_hash})
    assert resp.status_code == 200, resp.text
    assert resp.json()["kind"] == "show"
    shown = client.wait_job(token, resp.json()["id"])
    assert shown["status"] == "succeeded", shown
    assert _remaining(token) == remaining  # free
    image = shown["images"][0]
    assert image["id"] != grid["images"][0]["id"]  # the bot's new message
    assert _cdn_size(client, image["url"]) == _cdn_size(client, grid["images"][0]["url"])
    u1 = next(b["id"] for row in image["actions"] for b in row if b["label"] == "U1")
    upscale = _press(client, token, shown["id"], u1)
    assert upscale["status"] == "succeeded", upscale
    assert upscale["images"][0]["upscaled"] is True
    assert stack.simulator.job(job_hash).status == "succeeded"


def test_show_by_admin_post_and_errors(client: Client, stack: RunningStack) -> None:
    token = client.token()
    grid = _grid(client, token, "a tower to show")
    job_hash = _stored_job_hash(grid["id"])
    account = next(a for a in stack.accounts if a["channel_id"] == grid["client_id"])
    resp = client.http.post(
        "/midjourney/show", json={"job_hash": job_hash, "account": account["id"]}, headers={"x-admin-key": ADMIN}
    )
    assert resp.status_code == 200, resp.text
    deadline = time.monotonic() + 30
    shown: dict[str, Any] = {}
    while time.monotonic() < deadline and shown.get("status") not in FINISHED:
        time.sleep(0.2)
        shown = client.http.get(
            "/midjourney/job", params={"id": resp.json()["id"]}, headers={"x-admin-key": ADMIN}
        ).json()
    assert shown["status"] == "succeeded", shown
    assert shown["client_id"] == account["channel_id"]
    _error(client.http.get("/midjourney/job", params={"token": token, "id": shown["id"]}), 404, "job_not_found")
    _error(client.http.get("/midjourney/show", params={"token": token, "job_hash": "x" * 36}), 400, "invalid_job_hash")
    _error(client.http.get("/midjourney/show", params={"job_hash": job_hash}), 401, "unauthorized")
    unknown = client.http.get(
        "/midjourney/show", params={"token": token, "job_hash": "00000000-0000-4000-8000-000000000000"}
    )
    assert unknown.status_code == 200, unknown.text
    failed = client.wait_job(token, unknown.json()["id"])
    assert failed["status"] == "failed", failed
    assert failed["error"]["code"] == "invalid_parameter", failed
