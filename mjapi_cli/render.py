"""How jobs, history pages, accounts and tokens look in a terminal (rich tables), and saving a job's images."""

from __future__ import annotations

import mimetypes
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mjapi_cli.client import MjapiClient
from mjapi_cli.follow import STATUS_STYLES, elapsed_seconds, format_elapsed


def _status(status: Any) -> Text:
    value = str(status or "")
    return Text(value, style=STATUS_STYLES.get(value, ""))


def _when(epoch_ms: Any) -> str:
    if not epoch_ms:
        return ""
    return datetime.fromtimestamp(int(epoch_ms) / 1000, tz=UTC).strftime("%m-%d %H:%M:%S")


def buttons_of(image: dict[str, Any]) -> list[str]:
    return [str(b.get("label") or b.get("id")) for row in image.get("actions") or [] for b in row]


def show_job(console: Console, job: dict[str, Any]) -> None:
    """A job's summary: status, prompt, mode, then its images (the thread) with their buttons, or its prompts."""
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column()
    head.add_row("job", str(job.get("id")))
    head.add_row("status", _status(job.get("status")))
    if job.get("kind"):
        head.add_row("kind", f"{job['kind']}" + (f" ({job['action']})" if job.get("action") else ""))
    if job.get("prompt"):
        head.add_row("prompt", str(job["prompt"]))
    if job.get("mode") or job.get("bot"):
        head.add_row("mode / bot", f"{job.get('mode') or '–'} / {job.get('bot') or '–'}")
    head.add_row("progress", f"{100 if job.get('status') == 'succeeded' else job.get('progress', 0)}%")
    if job.get("created_at"):
        head.add_row("elapsed", format_elapsed(elapsed_seconds(job)))
    if job.get("parent_id"):
        head.add_row("parent", str(job["parent_id"]))
    error = job.get("error")
    if isinstance(error, dict):
        head.add_row("error", Text(f"{error.get('code')}: {error.get('message')}", style="red"))
    console.print(head)
    prompts = _prompts(job)
    if prompts:
        table = Table("#", "prompt", title="prompts", title_justify="left", show_lines=True)
        for n, prompt in enumerate(prompts, 1):
            table.add_row(str(n), prompt)
        console.print(table)
    for image in job.get("images") or []:
        if not image.get("url"):
            continue
        kind = "upscale" if image.get("upscaled") else "image"
        console.print(f"[bold]{kind}[/bold] {image.get('job_id', '')} {image['url']}", soft_wrap=True)
        if image.get("video_url"):
            console.print(f"  video {image['video_url']}", soft_wrap=True)
        labels = buttons_of(image)
        if labels:
            console.print("  buttons: " + "  ".join(labels), soft_wrap=True, markup=False)


def _prompts(job: dict[str, Any]) -> list[str]:
    if job.get("prompts"):
        return [str(p) for p in job["prompts"]]
    desc = job.get("desc") or []
    return [str(p) for d in desc for p in d.get("prompts") or []]


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def show_history(console: Console, page: dict[str, Any]) -> None:
    table = Table(title="history", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("job", "kind", "status", "created (UTC)", "prompt"):
        table.add_column(name, no_wrap=True)
    room = max(10, console.width - 62)  # what the other columns leave on one line
    for entry in page.get("data") or []:
        table.add_row(
            str(entry.get("job_id")),
            str(entry.get("kind")),
            _status(entry.get("status")),
            _when(entry.get("created_at")),
            _clip(str(entry.get("prompt") or ""), room),
        )
    console.print(table)
    if page.get("next_cursor"):
        console.print(f"more: mjapi jobs --cursor {page['next_cursor']}", style="dim", soft_wrap=True)


def show_accounts(console: Console, accounts: list[dict[str, Any]]) -> None:
    table = Table("account", "mode", "bots", "health", "reason", "running", "queued", "enabled", title="accounts")
    for a in accounts:
        health = str(a.get("health") or "")
        table.add_row(
            str(a.get("device")),
            str(a.get("patternType")),
            ",".join(a.get("bots") or []),
            Text(health, style="green" if health == "ok" else "red"),
            str(a.get("health_reason") or ""),
            f"{a.get('running', 0)}/{a.get('concurrency', '?')}",
            str(a.get("queued", 0)),
            "yes" if a.get("enabled") else Text("no", style="red"),
        )
    console.print(table)


def _extension(url: str, content_type: str | None) -> str:
    suffix = Path(urlsplit(url).path).suffix
    if suffix:
        return suffix
    return (mimetypes.guess_extension(content_type or "") or ".bin") if content_type else ".bin"


def download_images(client: MjapiClient, job: dict[str, Any], directory: Path) -> list[Path]:
    """Save every image (and video) of the job's thread as ``<job id><ext>`` in ``directory``; return the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    for image in job.get("images") or []:
        sources = [(image.get("url"), image.get("content_type")), (image.get("video_url"), "video/mp4")]
        for url, kind in sources:
            if not url:
                continue
            name = f"{image.get('job_id') or job.get('id')}{_extension(str(url), kind)}"
            path = directory / name
            if path in saved:
                continue
            path.write_bytes(client.download(str(url)))
            saved.append(path)
    return saved
