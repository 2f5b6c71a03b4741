"""The ``mjapi`` command line (typer): submit jobs, follow them with a live progress bar, download the images.

Configured by ``MJAPI_URL``, ``MJAPI_TOKEN`` and ``MJAPI_ADMIN_KEY`` (or ``--url``, ``--token``, ``--admin-key``).
Exit codes: 0 done, 1 the API refused or the job failed (its error on stderr), 2 bad usage, 130 stopped with Ctrl-C
while waiting (the job keeps running on the server).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from mjapi_cli.client import ApiFailure, MjapiClient, Settings, data_url
from mjapi_cli.follow import follow
from mjapi_cli.render import download_images, show_accounts, show_history, show_job

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_URL = "http://127.0.0.1:8000"
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="mjapi",
    help="Midjourney through your mjapi deployment: imagine, press buttons, describe, blend, follow and download.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
token_app = typer.Typer(help="API tokens (admin key).", no_args_is_help=True)
accounts_app = typer.Typer(help="The Discord accounts of the pool: list, enable, switch mode (admin key).")
app.add_typer(token_app, name="token")
app.add_typer(accounts_app, name="accounts")


class ModeChoice(StrEnum):
    fast = "fast"
    relax = "relax"
    turbo = "turbo"


class BotChoice(StrEnum):
    mj = "mj"
    niji = "niji"


class Dimensions(StrEnum):
    portrait = "portrait"
    square = "square"
    landscape = "landscape"


class SwitchTo(StrEnum):
    fast = "fast"
    relax = "relax"
    turbo = "turbo"
    remix = "remix"


# -- shared options ----------------------------------------------------------------------------------------------------

ModeOpt = Annotated[ModeChoice | None, typer.Option(help="Run on an account of this mode (default: any).")]
BotOpt = Annotated[BotChoice, typer.Option(help="Midjourney (mj) or Niji (niji).")]
WaitOpt = Annotated[bool, typer.Option("--wait", help="Follow the job with a live progress bar until it ends.")]
DownloadOpt = Annotated[
    Path | None,
    typer.Option("--download", metavar="DIR", help="Wait, then save the images into DIR.", file_okay=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the final job as JSON on stdout (for scripts).")]


class State:
    """What every command needs: the API's address and credentials, and the two consoles."""

    def __init__(self, settings: Settings, poll: float) -> None:
        self.settings = settings
        self.poll = poll
        self.out = Console(highlight=False, soft_wrap=False)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)  # paths and hints stay on one line

    def client(self) -> MjapiClient:
        return MjapiClient(self.settings)


@app.callback()
def configure(
    ctx: typer.Context,
    url: Annotated[str, typer.Option(envvar="MJAPI_URL", help="Base URL of the API.")] = DEFAULT_URL,
    token: Annotated[
        str | None, typer.Option(envvar="MJAPI_TOKEN", help="API token.", show_default=False, show_envvar=True)
    ] = None,
    admin_key: Annotated[
        str | None, typer.Option(envvar="MJAPI_ADMIN_KEY", help="Admin key (accounts, tokens).", show_default=False)
    ] = None,
    poll: Annotated[float, typer.Option(envvar="MJAPI_POLL_SECONDS", min=0.05, hidden=True)] = 1.0,
) -> None:
    ctx.obj = State(Settings(url=url, token=token or None, admin_key=admin_key or None), poll)


def _state(ctx: typer.Context) -> State:
    state = ctx.obj
    assert isinstance(state, State)
    return state


def api_errors(func: Callable[P, R]) -> Callable[P, R]:
    """An API refusal ends the command with its code and message on stderr and exit code 1 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except ApiFailure as exc:
            Console(stderr=True, highlight=False, soft_wrap=True).print(f"[red]error[/red] {exc.code}: {exc.message}")
            raise typer.Exit(EXIT_FAILED) from exc

    return wrapper


def _print_json(_state: State, value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))  # plain: never wrapped or coloured


def _conclude(
    state: State, client: MjapiClient, submitted: dict[str, Any], *, wait: bool, download: Path | None, as_json: bool
) -> None:
    """After a submission: print it, or follow the job to its end, download its images and report how it ended."""
    job_id = str(submitted["id"])
    if not wait and download is None:
        if as_json:
            _print_json(state, submitted)
        else:
            typer.echo(job_id)
            state.err.print(f"[dim]submitted ({submitted.get('status')}); follow it: mjapi job {job_id} --wait[/dim]")
        return
    try:
        state.err.print(f"[dim]following {job_id} (Ctrl-C stops waiting; the job keeps running)[/dim]")
        final = follow(client, job_id, console=state.err, interval=state.poll, label=job_id)
    except KeyboardInterrupt:
        state.err.print(
            f"\nStopped waiting. Job {job_id} keeps running on the server; follow it with:\n  mjapi job {job_id} --wait"
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None
    if download is not None and final.get("status") == "succeeded":
        for path in download_images(client, final, download):
            state.err.print(f"saved {path}")
    if as_json:
        _print_json(state, final)
    else:
        show_job(state.out, final)
    if final.get("status") != "succeeded":
        error = final.get("error") or {}
        state.err.print(
            f"[red]job {job_id} {final.get('status')}[/red] {error.get('code', '')}: {error.get('message', '')}"
        )
        raise typer.Exit(EXIT_FAILED)


# -- jobs --------------------------------------------------------------------------------------------------------------


@app.command()
@api_errors
def imagine(
    ctx: typer.Context,
    prompt: Annotated[str, typer.Argument(help='The prompt, with Midjourney parameters ("a fox --ar 3:2").')],
    mode: ModeOpt = None,
    bot: BotOpt = BotChoice.mj,
    upscale: Annotated[bool, typer.Option("--upscale", help="Press U1 automatically when the grid is ready.")] = False,
    wait: WaitOpt = False,
    download: DownloadOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit a prompt. Prints the job id, or with --wait follows it to the end."""
    state = _state(ctx)
    with state.client() as client:
        job = client.imagine(prompt, mode=mode.value if mode else None, bot=bot.value, upscale=upscale)
        _conclude(state, client, job, wait=wait, download=download, as_json=as_json)


@app.command()
@api_errors
def action(
    ctx: typer.Context,
    job: Annotated[str, typer.Argument(help="The job whose button to press.")],
    button: Annotated[
        str, typer.Argument(help='Its label (U1, V2, 🔄, "Zoom Out 2x", "Vary (Region)"…) or custom_id.')
    ],
    prompt: Annotated[
        str | None, typer.Option(help="Prompt for a button that opens a form (remix, pan, Custom Zoom).")
    ] = None,
    mask: Annotated[
        Path | None,
        typer.Option(help="Vary (Region): a PNG, black, the area to repaint white.", exists=True, dir_okay=False),
    ] = None,
    wait: WaitOpt = False,
    download: DownloadOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Press a button of a finished job; the new job is followed like any other."""
    state = _state(ctx)
    with state.client() as client:
        pressed = client.action(job, button, prompt=prompt, mask=data_url(mask) if mask else None)
        new_job = dict(pressed.get("action_job") or {"id": pressed["action_job_id"]})
        _conclude(state, client, new_job, wait=wait, download=download, as_json=as_json)


@app.command()
@api_errors
def describe(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FILE|URL", help="An image file or an http(s) link to one.")],
    bot: BotOpt = BotChoice.mj,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the four prompts (default).")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Four prompts that describe an image."""
    state = _state(ctx)
    with state.client() as client:
        if source.startswith(("http://", "https://")):
            job = client.describe_link(source, bot=bot.value)
        else:
            path = Path(source)
            if not path.is_file():
                raise typer.BadParameter(f"{source} is neither a file nor an http(s) link", param_hint="FILE|URL")
            job = client.describe_file(path, bot=bot.value)
        _conclude(state, client, job, wait=wait, download=None, as_json=as_json)


@app.command()
@api_errors
def blend(
    ctx: typer.Context,
    images: Annotated[list[Path], typer.Argument(help="2 to 5 image files.", exists=True, dir_okay=False)],
    dimensions: Annotated[Dimensions | None, typer.Option(help="Shape of the result (default square).")] = None,
    mode: ModeOpt = None,
    bot: BotOpt = BotChoice.mj,
    wait: WaitOpt = False,
    download: DownloadOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Blend 2 to 5 images into a grid."""
    if not 2 <= len(images) <= 5:
        raise typer.BadParameter("blend takes 2 to 5 images", param_hint="IMAGES")
    state = _state(ctx)
    with state.client() as client:
        shape = dimensions.value if dimensions else None
        job = client.blend(images, dimensions=shape, mode=mode.value if mode else None, bot=bot.value)
        _conclude(state, client, job, wait=wait, download=download, as_json=as_json)


@app.command()
@api_errors
def shorten(
    ctx: typer.Context,
    prompt: Annotated[str, typer.Argument(help="The prompt to shorten.")],
    bot: BotOpt = BotChoice.mj,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the shorter prompts (default).")] = True,
    as_json: JsonOpt = False,
) -> None:
    """Five shorter versions of a prompt (press their buttons with `mjapi action`)."""
    state = _state(ctx)
    with state.client() as client:
        job = client.shorten(prompt, bot=bot.value)
        _conclude(state, client, job, wait=wait, download=None, as_json=as_json)


@app.command("job")
@api_errors
def job_command(
    ctx: typer.Context,
    job_id: Annotated[str, typer.Argument(metavar="ID", help="The job id.")],
    wait: WaitOpt = False,
    download: DownloadOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a job (its images and buttons); --wait follows it until it ends."""
    state = _state(ctx)
    with state.client() as client:
        found = client.job(job_id)
        if not wait and download is None:
            found = client.result(found) if found.get("status") == "succeeded" else found
            if as_json:
                _print_json(state, found)
            else:
                show_job(state.out, found)
            return
        _conclude(state, client, found, wait=True, download=download, as_json=as_json)


@app.command()
@api_errors
def jobs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(min=1, max=100, help="Jobs per page.")] = 20,
    cursor: Annotated[str | None, typer.Option(help="The page after this cursor (printed under a page).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Your jobs, newest first (history)."""
    state = _state(ctx)
    with state.client() as client:
        page = client.history(limit=limit, cursor=cursor)
    if as_json:
        _print_json(state, page)
    else:
        show_history(state.out, page)


@app.command()
@api_errors
def cancel(ctx: typer.Context, job_id: Annotated[str, typer.Argument(metavar="ID")], as_json: JsonOpt = False) -> None:
    """Cancel a queued or running job."""
    state = _state(ctx)
    with state.client() as client:
        done = client.cancel(job_id)
    if as_json:
        _print_json(state, done)
    else:
        state.out.print(f"{job_id} {done.get('status')}")


@app.command()
@api_errors
def seed(ctx: typer.Context, job_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """The seed of a finished job."""
    state = _state(ctx)
    with state.client() as client:
        found = client.seed(job_id)
    if found.get("seed") is None:
        state.err.print("The bot has not answered yet; ask again in a moment.")
        raise typer.Exit(EXIT_FAILED)
    typer.echo(str(found["seed"]))


# -- admin ------------------------------------------------------------------------------------------------------------


@accounts_app.callback(invoke_without_command=True)
@api_errors
def accounts(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """The accounts: mode, health and its reason, running/queued, enabled."""
    if ctx.invoked_subcommand is not None:
        return
    state = _state(ctx)
    with state.client() as client:
        found = client.accounts()
    if as_json:
        _print_json(state, found)
    else:
        show_accounts(state.out, found)


@accounts_app.command("enable")
@api_errors
def accounts_enable(ctx: typer.Context, account_id: Annotated[str, typer.Argument(metavar="ACCOUNT")]) -> None:
    """Put an account back into rotation (after fixing it in Discord)."""
    state = _state(ctx)
    with state.client() as client:
        show_accounts(state.out, [client.enable_account(account_id)])


@accounts_app.command("switch")
@api_errors
def accounts_switch(
    ctx: typer.Context,
    account_id: Annotated[str, typer.Argument(metavar="ACCOUNT")],
    to: Annotated[SwitchTo, typer.Argument(metavar="fast|relax|turbo|remix")],
) -> None:
    """Switch an account's mode (or toggle Remix)."""
    state = _state(ctx)
    with state.client() as client:
        done = client.switch(account_id, to.value)
    state.out.print(f"{account_id} {to.value}: {done.get('status')}")
    if done.get("status") == "failed":
        raise typer.Exit(EXIT_FAILED)


@token_app.command("create")
@api_errors
def token_create(
    ctx: typer.Context,
    count: Annotated[int, typer.Option(min=1, help="Number of uses.")] = 100,
    days: Annotated[float | None, typer.Option(min=0.001, help="Valid this many days (default 30).")] = None,
    label: Annotated[str | None, typer.Option(help="A name to recognise it by.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Mint an API token; prints it alone on stdout (export MJAPI_TOKEN=$(mjapi token create))."""
    state = _state(ctx)
    with state.client() as client:
        made = client.create_token(count=count, days=days, label=label)
    if as_json:
        _print_json(state, made)
        return
    typer.echo(str(made["token"]))
    state.err.print(f"[dim]{made.get('count')} uses; shown once, stored only as a hash[/dim]")


def main() -> None:
    app()
