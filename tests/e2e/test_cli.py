"""The ``mjapi`` CLI through typer's runner against the whole offline stack (real HTTP, simulator, relay), and once as
a real process stopped with Ctrl-C (SIGINT) while it waits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner, Result

from devstack.stack import RunningStack
from mjapi_cli.app import app
from tests.e2e.conftest import ADMIN, Client

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def env(stack: RunningStack, client: Client) -> dict[str, str]:
    return {"MJAPI_URL": stack.api_url, "MJAPI_TOKEN": client.token(200), "MJAPI_POLL_SECONDS": "0.3"}


def run(env: dict[str, str], *args: str, admin: bool = False) -> Result:
    full = {**env, **({"MJAPI_ADMIN_KEY": ADMIN} if admin else {"MJAPI_ADMIN_KEY": ""})}
    return CliRunner().invoke(app, list(args), env=full, catch_exceptions=False)


def ok_json(result: Result) -> Any:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def _png(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (96, 64), mode: str = "RGB") -> Path:
    Image.new(mode, size, color if mode == "RGB" else color[0]).save(path, format="PNG")
    return path


def test_token_create_prints_a_usable_token_and_accounts_show_the_pool(env: dict[str, str], client: Client) -> None:
    made = run(env, "token", "create", "--count", "3", "--days", "1", "--label", "cli", admin=True)
    assert made.exit_code == 0, made.stderr
    token = made.stdout.strip()
    assert token and "\n" not in token
    assert client.http.get("/midjourney/history", params={"token": token}).status_code == 200
    assert "3 uses" in made.stderr

    as_json = ok_json(run(env, "token", "create", "--count", "2", "--json", admin=True))
    assert as_json["count"] == 2 and as_json["token"] != token

    accounts = ok_json(run(env, "accounts", "--json", admin=True))
    assert {a["device"]: a["patternType"] for a in accounts} == {"demo1": "fast", "demo2": "relax"}
    table = run(env, "accounts", admin=True)
    assert table.exit_code == 0
    for word in ("demo1", "demo2", "fast", "relax", "health", "ok"):
        assert word in table.stdout
    enabled = run(env, "accounts", "enable", "demo2", admin=True)
    assert enabled.exit_code == 0 and "demo2" in enabled.stdout

    refused = run(env, "token", "create", "--count", "1")  # no admin key
    assert refused.exit_code == 1
    assert "admin_key_missing" in refused.stderr


def test_imagine_waits_with_progress_downloads_and_prints_json(env: dict[str, str], tmp_path: Path) -> None:
    args = ("imagine", "a glass frog --ar 3:2", "--mode", "fast", "--wait", "--download", str(tmp_path), "--json")
    result = run(env, *args)
    job = ok_json(result)
    assert job["status"] == "succeeded" and job["kind"] == "imagine"
    assert job["mode"] == "fast"
    # the progress bar (on stderr) ended at 100 % with the status, the elapsed time and the account's mode
    last = next(line for line in result.stderr.splitlines() if job["id"] in line and "%" in line)
    assert "100%" in last and "succeeded" in last and job["mode"] in last
    assert "0:0" in last  # elapsed m:ss
    saved = tmp_path / f"{job['id']}{Path(job['images'][0]['url']).suffix}"
    assert saved.is_file() and f"saved {saved}" in result.stderr
    with Image.open(saved) as grid:
        assert abs(grid.width / grid.height - 1.5) < 0.05

    shown = run(env, "job", job["id"])
    assert shown.exit_code == 0
    assert "succeeded" in shown.stdout and job["images"][0]["url"] in shown.stdout
    assert "U1" in shown.stdout and "V4" in shown.stdout

    # without a requested mode, the admin key finds the mode of the account that ran it (by its channel)
    admin_env = {**env, "MJAPI_TOKEN": ""}
    followed = run(admin_env, "job", job["id"], "--wait", "--json", admin=True)
    assert ok_json(followed)["mode"] == "fast"


def test_action_buttons_by_label_with_prompt_and_mask(env: dict[str, str], tmp_path: Path) -> None:
    grid = run(env, "imagine", "a tin robot")
    assert grid.exit_code == 0, grid.stderr
    grid_id = grid.stdout.strip()
    assert f"mjapi job {grid_id} --wait" in grid.stderr
    assert ok_json(run(env, "job", grid_id, "--wait", "--json"))["status"] == "succeeded"

    upscale = ok_json(run(env, "action", grid_id, "U1", "--wait", "--json"))
    assert upscale["status"] == "succeeded" and upscale["parent_id"] == grid_id
    assert upscale["images"][0]["upscaled"] is True
    labels = {b["label"] for row in upscale["images"][0]["actions"] for b in row}
    assert {"Vary (Region)", "Custom Zoom"} <= labels

    zoom = run(env, "action", upscale["id"], "Custom Zoom", "--prompt", "a tin robot --zoom 1.5", "--wait", "--json")
    assert ok_json(zoom)["status"] == "succeeded"

    mask = _png(tmp_path / "mask.png", (0, 0, 0), (64, 64), mode="L")
    with Image.open(mask) as img:
        img.paste(255, (16, 16, 48, 48))
        img.save(mask)
    region = run(env, "action", upscale["id"], "Vary (Region)", "--mask", str(mask), "--wait", "--json")
    assert ok_json(region)["status"] == "succeeded"

    missing = run(env, "action", upscale["id"], "Vary (Region)")
    assert missing.exit_code == 1 and "mask_required" in missing.stderr
    unknown = run(env, "action", grid_id, "U9")
    assert unknown.exit_code == 1 and "error" in unknown.stderr


def test_a_failed_job_exits_non_zero_with_its_error(env: dict[str, str]) -> None:
    result = run(env, "imagine", "a simbanned scene", "--wait")
    assert result.exit_code == 1
    assert "banned_prompt" in result.stderr and "failed" in result.stderr
    assert "banned_prompt" in result.stdout  # the job summary shows the error too

    refused = run(env, "imagine", "a cat --foo")  # the API's own validation, code and message
    assert refused.exit_code == 1 and "invalid_parameter: Unrecognized parameter --foo" in refused.stderr
    empty = run(env, "imagine", "--", "--ar 1:1")
    assert empty.exit_code == 1 and "invalid_prompt" in empty.stderr

    bad_token = run({**env, "MJAPI_TOKEN": "mjk_not-a-token"}, "jobs")
    assert bad_token.exit_code == 1 and "unauthorized" in bad_token.stderr
    no_token = run({**env, "MJAPI_TOKEN": ""}, "jobs")
    assert no_token.exit_code == 1 and "token_missing" in no_token.stderr
    unreachable = run({**env, "MJAPI_URL": "http://127.0.0.1:9"}, "jobs")
    assert unreachable.exit_code == 1 and "unreachable" in unreachable.stderr


def test_describe_blend_shorten_and_history_pages(env: dict[str, str], tmp_path: Path, stack: RunningStack) -> None:
    red = _png(tmp_path / "red.png", (200, 30, 30))
    blue = _png(tmp_path / "blue.png", (30, 30, 200))

    described = ok_json(run(env, "describe", str(red), "--json"))
    assert described["status"] == "succeeded" and len(described["desc"][0]["prompts"]) == 4
    text = run(env, "describe", str(red))
    assert text.exit_code == 0 and "prompts" in text.stdout
    by_link = ok_json(run(env, "describe", described["image_url"], "--json"))
    assert by_link["status"] == "succeeded" and by_link["desc"][0]["prompts"]
    nothing = run(env, "describe", str(tmp_path / "missing.png"))
    assert nothing.exit_code == 2

    blended = run(env, "blend", str(red), str(blue), "--dimensions", "landscape", "--download", str(tmp_path / "b"))
    assert blended.exit_code == 0, blended.stderr
    files = list((tmp_path / "b").iterdir())
    assert len(files) == 1
    with Image.open(files[0]) as img:
        assert img.width > img.height
    one = run(env, "blend", str(red))
    assert one.exit_code == 2 and "2 to 5" in one.stderr

    short = ok_json(run(env, "shorten", "a very long prompt about a red fox sitting in the snow at dawn", "--json"))
    assert short["status"] == "succeeded" and len(short["prompts"]) == 5

    first = ok_json(run(env, "jobs", "--limit", "2", "--json"))
    assert len(first["data"]) == 2 and first["next_cursor"]
    second = ok_json(run(env, "jobs", "--limit", "2", "--cursor", first["next_cursor"], "--json"))
    assert {j["job_id"] for j in second["data"]}.isdisjoint({j["job_id"] for j in first["data"]})
    table = run(env, "jobs", "--limit", "2")
    assert first["data"][0]["job_id"] in table.stdout and "mjapi jobs --cursor" in table.stdout


def test_ctrl_c_leaves_the_job_running_and_says_how_to_follow_it(
    env: dict[str, str], client: Client, stack: RunningStack
) -> None:
    """A real process: SIGINT while it waits ends it with 130 and a hint; the job is still running on the server."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "mjapi_cli", "imagine", "a simstall lighthouse", "--wait"],
        cwd=ROOT,
        env={**os.environ, **env, "MJAPI_ADMIN_KEY": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    timer = threading.Timer(60, proc.kill)  # bounded: never hang the suite
    timer.start()
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # "following <id> ..." once it is waiting
        assert first.startswith("following "), first
        job_id = first.split()[1]
        client.wait_job(env["MJAPI_TOKEN"], job_id, until=lambda b: b["progress"] > 0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        timer.cancel()
    assert proc.returncode == 130, (out, err)
    assert "keeps running" in err and f"mjapi job {job_id} --wait" in err
    assert "Traceback" not in err
    still = client.http.get("/midjourney/job", params={"id": job_id, "token": env["MJAPI_TOKEN"]}).json()
    assert still["status"] == "running"

    cancelled = run(env, "cancel", job_id)
    assert cancelled.exit_code == 0 and job_id in cancelled.stdout
    done = client.wait_job(env["MJAPI_TOKEN"], job_id)
    assert done["status"] == "cancelled"
