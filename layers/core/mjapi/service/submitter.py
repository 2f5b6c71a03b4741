"""Sending a job's Discord interaction on the account it was assigned to."""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mjapi.discord import interactions
from mjapi.discord.commands import CATALOG, CommandCatalog, CommandNotFound, CommandRef
from mjapi.discord.rest import DiscordError, DiscordRest, Upload
from mjapi.ids import new_session_id
from mjapi.models import APPLICATION_IDS, Account, AccountConfig, Job, JobKind
from mjapi.settings import get_settings

logger = logging.getLogger(__name__)


@dataclass
class SubmitFailure(Exception):
    """The interaction could not be delivered. ``account_fault`` marks failures caused by the account itself."""

    code: str
    message: str
    account_fault: bool = False
    missing_bot: bool = False  # the job's bot is absent from the account's channel: stop offering it there

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


RestFactory = Callable[[AccountConfig], DiscordRest]


@dataclass(frozen=True)
class FormInput:
    """What to put in a form the bot opened: the prompt, and for the region editor the mask (PNG bytes)."""

    editor: bool
    custom_id: str
    value: str
    interaction_id: str | None = None
    text_input_id: str | None = None
    application_id: str | None = None
    mask: bytes | None = None


_clients: dict[tuple[str, str, str | None, str], DiscordRest] = {}
_clients_lock = threading.Lock()


def default_rest_factory(config: AccountConfig) -> DiscordRest:
    """One long-lived client per account (and token, proxy, base URL): connections and TLS state are reused, which
    matters for a Lambda container serving many requests and for the relay. httpx clients are thread-safe.

    The client is built outside the lock (it costs milliseconds, more on a process's first): requests for other
    accounts never wait for it. Two first requests of one account may both build one; the first stored wins."""
    settings = get_settings()
    key = (
        config.id,
        hashlib.sha256(config.token.get_secret_value().encode()).hexdigest(),
        config.proxy,
        settings.discord_api_base,
    )
    client = _clients.get(key)
    if client is not None:
        return client
    built = DiscordRest(
        config.token.get_secret_value(),
        base_url=settings.discord_api_base,
        proxy=config.proxy,
        user_agent=config.user_agent or settings.discord_user_agent,
        timeout=settings.discord_timeout_seconds,
        max_retries=settings.discord_max_retries,
    )
    with _clients_lock:
        client = _clients.setdefault(key, built)
    if client is not built:
        built.close()
    return client


def prepare_clients(configs: Iterable[AccountConfig]) -> None:
    """Build the accounts' clients now (at a container's start) rather than in the first requests that need them."""
    for config in configs:
        default_rest_factory(config)


class Submitter:
    def __init__(self, rest_factory: RestFactory = default_rest_factory, catalog: CommandCatalog = CATALOG) -> None:
        self._rest_factory = rest_factory
        self._catalog = catalog

    def send(self, job: Job, account: Account, config: AccountConfig) -> None:
        """Deliver ``job``'s interaction. Raises SubmitFailure; never leaks the token."""
        assert job.nonce
        rest = self._rest_factory(config)  # shared per account: not closed here
        try:
            self._send(rest, job, account)
        except DiscordError as exc:
            raise _failure(exc) from exc
        except CommandNotFound as exc:
            if exc.application_absent:
                message = f"The {job.bot.value} bot is not in the account's channel."
                raise SubmitFailure("bot_unavailable", message, missing_bot=True) from exc
            raise SubmitFailure("command_unavailable", str(exc), account_fault=True) from exc

    def send_form(self, job: Job, account: Account, config: AccountConfig, form: FormInput) -> None:
        """Fill in a form the bot opened for ``job``: a modal (interaction type 5) or the Vary (Region) editor (the
        activity host's ``submit-job``). Raises SubmitFailure; never leaks the token."""
        rest = self._rest_factory(config)
        try:
            if form.editor:
                app_id = form.application_id or APPLICATION_IDS[job.bot]
                base = get_settings().discordsays_base.format(application_id=app_id).rstrip("/")
                rest.submit_inpaint(
                    f"{base}/inpaint/api/submit-job",
                    custom_id=form.custom_id.removeprefix("MJ::iframe::"),
                    mask=base64.b64encode(form.mask or b"").decode(),
                    prompt=form.value,
                )
                return
            assert form.interaction_id
            assert form.text_input_id
            assert job.nonce
            rest.interact(
                interactions.modal_submit(
                    application_id=form.application_id or APPLICATION_IDS[job.bot],
                    guild_id=account.guild_id,
                    channel_id=account.channel_id,
                    session_id=account.session_id or new_session_id(),
                    nonce=job.nonce,
                    modal_id=form.interaction_id,
                    custom_id=form.custom_id,
                    text_input_id=form.text_input_id,
                    value=form.value,
                )
            )
        except DiscordError as exc:
            raise _failure(exc) from exc

    def _send(self, rest: DiscordRest, job: Job, account: Account) -> None:
        session_id = account.session_id or new_session_id()
        app_id = APPLICATION_IDS[job.bot]
        assert job.nonce
        if job.kind == JobKind.ACTION:
            assert job.parent_message_id
            assert job.custom_id
            rest.interact(
                interactions.button(
                    application_id=app_id,
                    guild_id=account.guild_id,
                    channel_id=account.channel_id,
                    message_id=job.parent_message_id,
                    message_flags=job.message_flags,
                    custom_id=job.custom_id,
                    session_id=session_id,
                    nonce=job.nonce,
                )
            )
            return
        name, options, uploads = self._command_inputs(rest, job, account)
        for attempt in (1, 2):
            ref = self._ref(rest, app_id, name, account, refresh=attempt == 2)
            payload = interactions.command(
                ref=ref,
                guild_id=account.guild_id,
                channel_id=account.channel_id,
                session_id=session_id,
                nonce=job.nonce,
                options=options,
                uploads=uploads,
            )
            try:
                rest.interact(payload)
                return
            except DiscordError as exc:
                if not exc.invalid_version or attempt == 2:
                    raise
                logger.info("command /%s version is stale; refreshing the command index", name)

    def _ref(self, rest: DiscordRest, app_id: str, name: str, account: Account, *, refresh: bool) -> CommandRef:
        return self._catalog.get(
            rest,
            application_id=app_id,
            name=name,
            guild_id=account.guild_id,
            channel_id=account.channel_id,
            refresh=refresh,
        )

    def _command_inputs(
        self,
        rest: DiscordRest,
        job: Job,
        account: Account,
    ) -> tuple[str, list[dict[str, object]], list[Upload]]:
        opts = job.options
        if job.kind == JobKind.IMAGINE:
            return "imagine", [interactions.string_option("prompt", job.final_prompt or job.prompt)], []
        if job.kind == JobKind.SHORTEN:
            return "shorten", [interactions.string_option("prompt", job.prompt)], []
        if job.kind in (JobKind.INFO, JobKind.SWITCH):
            command = str(opts.get("command", "info"))
            if command == "remix":  # /prefer remix toggles Remix mode
                return "prefer", [interactions.subcommand_option("remix")], []
            return command, [], []
        if job.kind == JobKind.DESCRIBE:
            if opts.get("link"):
                return "describe", [interactions.string_option("link", str(opts["link"]))], []
            upload = self._upload(rest, account, str(opts["upload_key"]), str(opts.get("filename") or "image.png"))
            return "describe", [interactions.attachment_option("image", 0)], [upload]
        if job.kind == JobKind.BLEND:
            keys = [str(k) for k in opts.get("upload_keys", [])]
            uploads = [
                self._upload(rest, account, key, f"blend{n + 1}.{key.rsplit('.', 1)[-1]}") for n, key in enumerate(keys)
            ]
            options = [interactions.attachment_option(f"image{n + 1}", n) for n in range(len(uploads))]
            if opts.get("dimensions"):
                options.append(interactions.string_option("dimensions", str(opts["dimensions"])))
            return "blend", options, uploads
        if job.kind == JobKind.SHOW:  # the bot re-posts the finished job (its Midjourney uuid) with live buttons
            return "show", [interactions.string_option("job_id", str(opts["job_hash"]))], []
        raise SubmitFailure("unsupported_kind", f"cannot submit a {job.kind} job")

    @staticmethod
    def _upload(rest: DiscordRest, account: Account, key: str, filename: str) -> Upload:
        from mjapi.images import inspect_image, load_object  # Pillow: only for the few jobs that upload

        data = load_object(key)
        facts = inspect_image(data)
        return rest.upload(account.channel_id, filename, data, facts.content_type)


def _failure(exc: DiscordError) -> SubmitFailure:
    if exc.unauthorized:
        return SubmitFailure("account_unauthorized", "Discord rejected the account's token.", account_fault=True)
    if exc.status == 403:
        return SubmitFailure(
            "account_forbidden", "Discord refused the account access to the channel.", account_fault=True
        )
    if exc.unknown_message:
        return SubmitFailure("message_gone", "The Discord message this action refers to no longer exists.")
    if exc.rate_limited:
        return SubmitFailure("discord_rate_limited", "Discord is rate limiting this account; try again later.")
    if exc.status == 0 or exc.status >= 500:
        return SubmitFailure("discord_unavailable", "Discord did not accept the request (network or server error).")
    return SubmitFailure("discord_rejected", f"Discord rejected the request: {exc.message}")
