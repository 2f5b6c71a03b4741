"""``python -m mjapi.midjourney.parse`` as users run it: a subprocess on recorded dispatches."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dispatches"
ROOT = Path(__file__).resolve().parents[3]


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mjapi.midjourney.parse", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def test_cli_parses_a_fixture_file() -> None:
    result = _run(str(FIXTURES / "imagine_grid_result.json"))
    assert result.returncode == 0, result.stderr
    event = json.loads(result.stdout)
    assert event["kind"] == "job_result" and event["action"] == "imagine"
    assert event["correlation"]["job_hash"] == "350fb24a-dd72-45f2-ade8-048379a2ed5a"
    assert [b["action"] for b in event["buttons"]][:5] == ["upsample"] * 4 + ["reroll"]


def test_cli_reads_stdin_and_arrays_of_messages_and_dispatches() -> None:
    frames = [
        json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
        for name in (
            "imagine_waiting_to_start",
            "imagine_progress_31_fast",
            "progress_message_deleted",
            "notice_queue_full",
        )
    ]
    payload = [frames[0]["d"], *frames[1:]]  # a bare message object and three gateway dispatches
    result = _run("-", "--compact", stdin=json.dumps(payload))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    events = json.loads(result.stdout)
    assert [e["kind"] for e in events] == ["job_started", "job_progress", "message_deleted", "notice"]
    assert events[0]["correlation"]["source"] == "REST"
    assert events[3]["notice"] == "queue_full"


def test_cli_every_fixture() -> None:
    """One process over all fixtures (an array) keeps this fast; every one yields a known kind."""
    frames = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(FIXTURES.glob("*.json"))]
    result = _run("-", stdin=json.dumps(frames))
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)
    assert len(events) == len(frames)
    unrecognized = [e for e in events if e["kind"] == "unrecognized"]
    assert [e["reason"] for e in unrecognized] == ["not_from_bot"]


def test_cli_bad_json_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"op": 0, "t": "MESSAGE_CREATE", ', encoding="utf-8")
    result = _run(str(bad))
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr
    assert result.stdout == ""


def test_cli_wrong_shape_and_missing_file_exit_2(tmp_path: Path) -> None:
    result = _run("-", stdin="[1, 2]")
    assert result.returncode == 2 and "JSON object" in result.stderr
    result = _run(str(tmp_path / "missing.json"))
    assert result.returncode == 2 and "cannot read" in result.stderr
