"""`make run` on this machine: the stack comes up, serves a working API, and shuts down cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_a_working_api() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MJAPI_", "AWS_"))}
    proc = subprocess.Popen(
        ["make", "-s", "run", "RUN_ARGS=--port 0 --json --sim-speed 200"],
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
        info = json.loads(proc.stdout.readline())
        api, admin = info["api"], info["admin_key"]
        assert info["simulator"]
        assert [a["mode"] for a in info["accounts"]] == ["fast", "relax"]
        assert all("token" not in a for a in info["accounts"])
        with httpx.Client(base_url=api, timeout=30) as http:
            token = http.get(
                "/midjourney/create_token", params={"count": 3, "days": 1}, headers={"x-admin-key": admin}
            ).json()["token"]
            job = http.get("/midjourney/imagine", params={"token": token, "prompt": "a tin robot"}).json()
            deadline = time.monotonic() + 60
            body = job
            while time.monotonic() < deadline and body["status"] not in ("succeeded", "failed"):
                time.sleep(0.2)
                body = http.get("/midjourney/job", params={"token": token, "id": job["id"]}).json()
            assert body["status"] == "succeeded", body
            image = http.get(body["images"][0]["url"])
            assert image.status_code == 200
            assert image.content[:8] == b"\x89PNG\r\n\x1a\n"
            assert http.get("/openapi.json").status_code == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode in (0, -signal.SIGTERM, 2), proc.stderr.read() if proc.stderr else ""
