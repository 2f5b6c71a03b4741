"""`make run` on this machine: the stack comes up, serves a working API, shuts down cleanly on SIGTERM, and - on its
default single-machine store - keeps tokens, jobs, history and images across a restart (``--fresh`` starts empty)."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@contextmanager
def make_run(*args: str) -> Iterator[dict[str, Any]]:
    """``make run`` as a user starts it (no MJAPI_/AWS_ settings of ours), its JSON line; SIGTERM at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MJAPI_", "AWS_"))}
    run_args = " ".join(["--json", "--sim-speed 200", *args])
    proc = subprocess.Popen(
        ["make", "-s", "run", f"RUN_ARGS={run_args}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, "make run printed nothing within 120 s"
        line = proc.stdout.readline()
        assert line, proc.stderr.read() if proc.stderr else "make run exited"
        yield json.loads(line)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode in (0, -signal.SIGTERM, 2), proc.stderr.read() if proc.stderr else ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _token(http: httpx.Client, admin: str, count: int) -> str:
    resp = http.get("/midjourney/create_token", params={"count": count, "days": 1}, headers={"x-admin-key": admin})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["token"])


def _imagine_and_wait(http: httpx.Client, token: str, prompt: str) -> dict[str, Any]:
    job = http.get("/midjourney/imagine", params={"token": token, "prompt": prompt}).json()
    deadline = time.monotonic() + 60
    body = job
    while time.monotonic() < deadline and body["status"] not in ("succeeded", "failed"):
        time.sleep(0.2)
        body = http.get("/midjourney/job", params={"token": token, "id": job["id"]}).json()
    assert body["status"] == "succeeded", body
    return dict(body)


def test_make_run_serves_a_working_api(tmp_path: Path) -> None:
    with make_run("--port 0", f"--data-dir {tmp_path / 'data'}") as info:
        api, admin = info["api"], info["admin_key"]
        assert info["simulator"]
        assert info["store"] == "sqlite" and info["data_dir"] == str((tmp_path / "data").resolve())
        assert [a["mode"] for a in info["accounts"]] == ["fast", "relax"]
        assert all("token" not in a for a in info["accounts"])
        with httpx.Client(base_url=api, timeout=30) as http:
            body = _imagine_and_wait(http, _token(http, admin, 3), "a tin robot")
            image = http.get(body["images"][0]["url"])
            assert image.status_code == 200
            assert image.headers["content-type"].startswith("image/")
            assert len(image.content) > 1000
            assert http.get("/openapi.json").status_code == 200


def test_a_restart_keeps_tokens_jobs_history_and_images(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port = _free_port()  # one port for both runs: stored image URLs name it, as they name the CDN in AWS
    args = (f"--port {port}", f"--data-dir {data}")
    with make_run(*args) as first, httpx.Client(base_url=first["api"], timeout=30) as http:
        admin = first["admin_key"]
        token = _token(http, admin, 2)
        job = _imagine_and_wait(http, token, "a lighthouse in fog")
        image_url = job["images"][0]["url"]
        image = http.get(image_url).content
        history = http.get("/midjourney/history", params={"token": token}).json()
        assert [h["job_id"] for h in history["data"]] == [job["id"]]

    with make_run(*args) as second, httpx.Client(base_url=second["api"], timeout=30) as http:
        assert second["admin_key"] == admin  # the data directory keeps the stack's keys too
        again = http.get("/midjourney/job", params={"token": token, "id": job["id"]}).json()
        assert again["status"] == "succeeded"
        assert [i["url"] for i in again["images"]] == [i["url"] for i in job["images"]]
        assert http.get(image_url).content == image
        assert http.get("/midjourney/history", params={"token": token}).json()["data"] == history["data"]
        later = _imagine_and_wait(http, token, "a lighthouse at dawn")
        history = http.get("/midjourney/history", params={"token": token}).json()
        assert [h["job_id"] for h in history["data"]] == [later["id"], job["id"]]
        spent = http.get("/midjourney/imagine", params={"token": token, "prompt": "one too many"})
        assert spent.status_code == 403, spent.text  # the use spent before the restart still counts
        assert spent.json()["code"] == "quota_exhausted"

    with make_run(*args, "--fresh") as fresh, httpx.Client(base_url=fresh["api"], timeout=30) as http:
        assert fresh["admin_key"] != admin
        gone = http.get("/midjourney/job", params={"token": token, "id": job["id"]})
        assert gone.status_code == 401  # the token itself is gone
        assert http.get(image_url).status_code == 404
