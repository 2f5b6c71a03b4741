"""Keep one child process running, as ECS keeps the relay task running: restart it when it exits or stops looking
healthy, with exponential backoff, and log why.

The child's output is forwarded line by line to the ``devstack.<name>`` logger, at the level the child logged it
(its JSON log lines carry one), so ``make run`` shows the relay's warnings and tests can read what it said.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    """Delay before restart number n (1-based): ``initial * factor**(n-1)``, at most ``maximum``. A child that ran at
    least ``reset_after`` seconds counts as recovered: its successor starts after ``initial`` again."""

    initial: float = 1.0
    maximum: float = 30.0
    factor: float = 2.0
    reset_after: float = 60.0

    def delay(self, failures: int) -> float:
        return float(min(self.maximum, self.initial * self.factor ** max(0, failures - 1)))


@dataclass(frozen=True)
class HealthCheck:
    """The child touches ``path`` (content: epoch seconds) while healthy; older than ``max_age`` once ``grace`` has
    passed since it started means hung: it is killed and restarted (ECS does the same with a failing health check)."""

    path: Path
    max_age: float = 60.0
    grace: float = 60.0
    interval: float = 1.0

    def stale(self, started: float) -> bool:
        if time.monotonic() - started < self.grace:
            return False
        try:
            written = float(self.path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return True
        return time.time() - written > self.max_age


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


class Supervisor:
    """Run ``argv`` until :meth:`stop`; restart it whenever it ends or fails its health check."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        backoff: Backoff | None = None,
        health: HealthCheck | None = None,
        stop_timeout: float = 20.0,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.backoff = backoff or Backoff()
        self.health = health
        self.stop_timeout = stop_timeout
        self.starts = 0  # processes started so far (restarts = starts - 1)
        self.exits: list[int] = []  # the return code of every process that ended
        self.log = logging.getLogger(f"devstack.{name}")
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._started = threading.Event()
        self._monitor: threading.Thread | None = None
        self._readers: list[threading.Thread] = []

    # -- public ---------------------------------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        with self._lock:
            proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def restarts(self) -> int:
        return max(0, self.starts - 1)

    def start(self, timeout: float = 10.0) -> None:
        self._monitor = threading.Thread(target=self._run, name=f"supervisor-{self.name}", daemon=True)
        self._monitor.start()
        if not self._started.wait(timeout):
            raise RuntimeError(f"{self.name} did not start within {timeout:.0f}s")

    def stop(self) -> int | None:
        """SIGTERM the child, SIGKILL it after ``stop_timeout``; no restart follows. Returns its exit code."""
        with self._lock:
            self._stopping.set()
            proc = self._proc
        code: int | None = None
        if proc is not None:
            code = self._terminate(proc)
        if self._monitor is not None:
            self._monitor.join(timeout=self.stop_timeout + 5)
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    # -- the loop -------------------------------------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while True:
            with self._lock:
                if self._stopping.is_set():
                    return
                proc = self._spawn()
            started = time.monotonic()
            self._started.set()
            code = self._watch(proc, started)
            self.exits.append(code)
            if self._stopping.is_set():
                return
            ran = time.monotonic() - started
            failures = 1 if ran >= self.backoff.reset_after else failures + 1
            delay = self.backoff.delay(failures)
            self.log.warning(
                "%s (pid %d) ended with %s after %.1fs; restarting in %.1fs (restart #%d)",
                self.name,
                proc.pid,
                describe_exit(code),
                ran,
                delay,
                self.starts,
            )
            if self._stopping.wait(delay):
                return

    def _spawn(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(  # noqa: S603 - our own argv (python -m gateway_relay), no shell
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._proc = proc
        self.starts += 1
        self.log.info("%s started (pid %d)", self.name, proc.pid)
        assert proc.stdout is not None
        assert proc.stderr is not None
        self._readers = [r for r in self._readers if r.is_alive()]
        for stream, default in ((proc.stdout, logging.DEBUG), (proc.stderr, logging.WARNING)):
            reader = threading.Thread(target=self._forward, args=(stream, default), daemon=True)
            reader.start()
            self._readers.append(reader)
        return proc

    def _watch(self, proc: subprocess.Popen[bytes], started: float) -> int:
        """Wait for the process to end; kill it if its health check goes stale."""
        interval = self.health.interval if self.health else 1.0
        while True:
            try:
                return proc.wait(timeout=interval)
            except subprocess.TimeoutExpired:
                pass
            if self.health is not None and not self._stopping.is_set() and self.health.stale(started):
                self.log.warning(
                    "%s (pid %d) is unhealthy: %s not refreshed within %.0fs; killing it",
                    self.name,
                    proc.pid,
                    self.health.path,
                    self.health.max_age,
                )
                proc.kill()

    def _terminate(self, proc: subprocess.Popen[bytes]) -> int:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            self.log.warning(
                "%s (pid %d) ignored SIGTERM for %.0fs; killing it", self.name, proc.pid, self.stop_timeout
            )
            proc.kill()
            return proc.wait(timeout=10)

    def _forward(self, stream: IO[bytes], default: int) -> None:
        """Log each output line at the level it names (JSON ``level``); other lines (tracebacks) take the level of
        the line before them, so a traceback stays with its error."""
        level = default
        with stream:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", errors="replace").rstrip()
                if not line:
                    continue
                level = _line_level(line, level)
                self.log.log(level, "%s", line)


def _line_level(line: str, previous: int) -> int:
    if not line.startswith("{"):
        return previous
    try:
        record = json.loads(line)
    except ValueError:
        return previous
    if not isinstance(record, dict):
        return previous
    if "_aws" in record:  # an Embedded Metric Format document, not a log line
        return logging.DEBUG
    name = record.get("level")
    value = logging.getLevelName(name) if isinstance(name, str) else None
    return value if isinstance(value, int) else logging.INFO


def python_module(module: str) -> list[str]:
    """The argv that runs ``python -m module`` with this interpreter."""
    return [sys.executable, "-m", module]


def child_env(extra_paths: Sequence[Path], base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with ``extra_paths`` first on PYTHONPATH."""
    env = dict(os.environ if base is None else base)
    paths = [str(p) for p in extra_paths]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env
