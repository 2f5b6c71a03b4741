"""Following a job until it ends, with a live rich progress bar: percentage, status, elapsed time and the mode of the
account that runs it. The bar goes to stderr, so ``--json`` output on stdout stays clean for scripts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TaskProgressColumn, TextColumn
from rich.text import Text

from mjapi_cli.client import FINISHED, MjapiClient

STATUS_STYLES = {
    "queued": "yellow",
    "submitted": "cyan",
    "waiting": "cyan",
    "running": "blue",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "magenta",
}


def elapsed_seconds(job: dict[str, Any], now: float | None = None) -> float:
    """Seconds since the job was created (to its end once finished); the API's times are epoch milliseconds."""
    created = job.get("created_at") or 0
    if not created:
        return 0.0
    end = job.get("finished_at") or (now if now is not None else time.time()) * 1000
    return max(0.0, (float(end) - float(created)) / 1000)


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


class _JobColumn(ProgressColumn):
    """Status (coloured), elapsed time since the job was created, and the account's mode."""

    def render(self, task: Task) -> Text:
        job: dict[str, Any] = task.fields.get("job") or {}
        status = str(job.get("status") or "…")
        text = Text(f"{status:<9}", style=STATUS_STYLES.get(status, ""))
        text.append(f" {format_elapsed(elapsed_seconds(job))}", style="dim")
        mode = job.get("mode")
        if mode:
            text.append(f" {mode}", style="bold")
        return text


class _MarkColumn(SpinnerColumn):
    """A spinner while the job runs; then ✔ (succeeded), ✗ (failed) or • (cancelled)."""

    MARKS: ClassVar[dict[str, Text]] = {
        "succeeded": Text("✔", style="green"),
        "failed": Text("✗", style="red"),
        "cancelled": Text("•"),
    }

    def render(self, task: Task) -> Text:
        status = str((task.fields.get("job") or {}).get("status"))
        mark = self.MARKS.get(status)
        if mark is not None:
            return mark
        rendered = super().render(task)
        return rendered if isinstance(rendered, Text) else Text(str(rendered))


def _percent(job: dict[str, Any]) -> int:
    return 100 if job.get("status") == "succeeded" else int(job.get("progress") or 0)


def follow(
    client: MjapiClient,
    job_id: str,
    *,
    console: Console,
    interval: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    label: str | None = None,
) -> dict[str, Any]:
    """Poll the job until it succeeds, fails or is cancelled, drawing its progress; return its final view.

    A KeyboardInterrupt (Ctrl-C) is left to the caller: the job keeps running on the server either way."""
    progress = Progress(
        _MarkColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(bar_width=32),
        TaskProgressColumn(),
        _JobColumn(),
        console=console,
        transient=False,
        refresh_per_second=8,
    )
    modes: dict[str, str] = {}
    asked: set[str] = set()
    with progress:
        task = progress.add_task(label or job_id, total=100, job={})
        while True:
            job = client.job(job_id)
            if not job.get("mode") and job.get("client_id"):  # no mode asked: show the mode of its account
                channel = str(job["client_id"])
                if channel not in modes and channel not in asked:
                    asked.add(channel)
                    modes = client.account_modes()
                job = {**job, "mode": modes.get(channel)}
            progress.update(task, completed=_percent(job), job=job)
            if job.get("status") in FINISHED:
                break
            sleep(interval)
    return client.result(job)
