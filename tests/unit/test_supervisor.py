"""The dev stack's supervisor keeps a child running as ECS keeps the relay task: restart with backoff, kill when its
health file goes stale, forward its log lines at their level, stop without a restart."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from devstack.supervisor import Backoff, HealthCheck, Supervisor, describe_exit


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def test_backoff_doubles_up_to_its_maximum() -> None:
    backoff = Backoff(initial=1.0, maximum=30.0, factor=2.0)
    assert [backoff.delay(n) for n in range(1, 8)] == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_describe_exit_names_the_signal() -> None:
    assert describe_exit(-signal.SIGKILL) == "signal SIGKILL"
    assert describe_exit(3) == "exit code 3"


def test_a_child_that_keeps_dying_is_restarted_with_backoff_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="devstack.crasher")
    sup = Supervisor("crasher", _python("raise SystemExit(3)"), backoff=Backoff(initial=0.05, maximum=0.2))
    sup.start()
    try:
        _until(lambda: len(sup.exits) >= 3)
    finally:
        sup.stop()
    assert sup.exits[:3] == [3, 3, 3]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("ended with exit code 3" in m and "restarting in 0.1s (restart #2)" in m for m in warnings), warnings


def test_a_killed_child_is_replaced_and_stop_ends_it_for_good(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="devstack.sleeper")
    child = (
        "import signal, sys, time\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )

    def ready() -> int:
        return sum(1 for r in caplog.records if r.getMessage() == "ready")

    sup = Supervisor("sleeper", _python(child), backoff=Backoff(initial=0.05))
    sup.start()
    _until(lambda: ready() == 1)
    first = sup.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    _until(lambda: ready() == 2)  # a new process, started by the supervisor, got as far as its handler
    second = sup.pid
    assert second is not None
    assert second != first
    assert sup.exits == [-signal.SIGKILL]
    assert sup.restarts == 1
    assert sup.stop() == 0  # SIGTERM, handled: a clean exit
    assert sup.pid is None
    assert sup.exits == [-signal.SIGKILL, 0]
    assert sup.starts == 2  # stop() joined the supervisor: nothing restarts the child afterwards


def test_a_child_whose_health_file_goes_stale_is_killed_and_restarted(tmp_path: Path) -> None:
    path = tmp_path / "alive"
    child = f"import time, pathlib; pathlib.Path({str(path)!r}).write_text(str(time.time())); time.sleep(60)"
    sup = Supervisor(
        "hung",
        _python(child),
        backoff=Backoff(initial=0.05),
        health=HealthCheck(path, max_age=0.5, grace=0.5, interval=0.1),
    )
    sup.start()
    try:
        _until(lambda: len(sup.exits) >= 1)
    finally:
        sup.stop()
    assert sup.exits[0] == -signal.SIGKILL


def test_child_lines_are_logged_at_the_level_they_name(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="devstack.talker")
    child = (
        "import sys, time\n"
        'print(\'{"level":"ERROR","message":"boom"}\', file=sys.stderr)\n'
        'print("Traceback (most recent call last):", file=sys.stderr)\n'
        'print(\'{"_aws":{"CloudWatchMetrics":[]},"DisconnectedAccounts":[1]}\')\n'
        'print(\'{"level":"INFO","message":"fine"}\', file=sys.stderr)\n'
        "sys.stdout.flush(); sys.stderr.flush(); time.sleep(60)\n"
    )
    sup = Supervisor("talker", _python(child))
    sup.start()
    try:
        _until(lambda: any("fine" in r.getMessage() for r in caplog.records))
    finally:
        sup.stop()
    levels = {r.getMessage(): r.levelno for r in caplog.records if r.name == "devstack.talker"}
    assert levels['{"level":"ERROR","message":"boom"}'] == logging.ERROR
    assert levels["Traceback (most recent call last):"] == logging.ERROR  # stays with its error
    assert levels['{"_aws":{"CloudWatchMetrics":[]},"DisconnectedAccounts":[1]}'] == logging.DEBUG
    assert levels['{"level":"INFO","message":"fine"}'] == logging.INFO
