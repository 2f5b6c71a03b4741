"""Discord REST v9 client for a user account (httpx, optional per-account proxy).

Retries what Discord asks us to retry (429 with ``Retry-After``, 5xx, connection errors) with bounded waits, and turns
every other failure into a typed ``DiscordError`` carrying Discord's ``{code, message}``.

httpx is imported when the first client is made, not with this module: the API's reads never talk to Discord, and
the import costs a Lambda cold start 50-200 ms (more where ``click`` is installed: ``httpx._main`` pulls it in).
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

UNKNOWN_MESSAGE = 10008
INVALID_FORM_BODY = 50035
MAX_RETRY_AFTER_SECONDS = 30.0


class DiscordError(Exception):
    """A non-retryable (or exhausted) Discord failure. Never contains the token."""

    def __init__(self, status: int, code: int | None, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(f"discord {status} code={code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after

    @property
    def invalid_version(self) -> bool:
        """50035 with an INVALID_VERSION/INVALID_COMMAND_VERSION detail: the command was re-registered."""
        return self.code == INVALID_FORM_BODY and "VERSION" in self.message.upper()

    @property
    def unknown_message(self) -> bool:
        return self.code == UNKNOWN_MESSAGE

    @property
    def unauthorized(self) -> bool:
        return self.status == 401

    @property
    def rate_limited(self) -> bool:
        return self.status == 429


_ssl_lock = threading.Lock()
_ssl: ssl.SSLContext | None = None


def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context (trust store loaded once) for every client of the process: building one reads the CA bundle,
    tens of milliseconds, which each new httpx client would otherwise pay. An SSLContext is safe to share."""
    global _ssl
    with _ssl_lock:
        if _ssl is None:
            import httpx

            _ssl = httpx.create_ssl_context()
        return _ssl


@dataclass(frozen=True)
class Upload:
    """An attachment uploaded through ``POST /channels/{id}/attachments``; usable as ``uploaded_filename``."""

    filename: str
    uploaded_filename: str


class DiscordRest:
    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://discord.com/api/v9",
        proxy: str | None = None,
        user_agent: str | None = None,
        timeout: float = 15.0,
        max_retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        import httpx

        self._base = base_url.rstrip("/")
        self._max_retries = max_retries
        self._sleep = sleep
        self._transport_error = httpx.TransportError
        headers = {"Authorization": token}  # user tokens go bare, without "Bearer "
        if user_agent:
            headers["User-Agent"] = user_agent
        verify = shared_ssl_context()
        self._client = httpx.Client(headers=headers, timeout=timeout, proxy=proxy, transport=transport, verify=verify)
        # Upload URLs live on a storage host and must not receive the Authorization header. Few jobs upload: made on
        # first use.
        self._plain_options: dict[str, Any] = {
            "timeout": timeout,
            "proxy": proxy,
            "transport": transport,
            "verify": verify,
        }
        self._plain_client: httpx.Client | None = None
        self._plain_lock = threading.Lock()

    @property
    def _plain(self) -> httpx.Client:
        with self._plain_lock:
            if self._plain_client is None:
                import httpx

                self._plain_client = httpx.Client(**self._plain_options)
            return self._plain_client

    def close(self) -> None:
        self._client.close()
        with self._plain_lock:
            if self._plain_client is not None:
                self._plain_client.close()

    def __enter__(self) -> DiscordRest:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- transport -----------------------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        files: Any = None,
        data: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        url = path if path.startswith("http") else f"{self._base}{path}"
        attempt = 0
        while True:
            attempt += 1
            try:
                resp = self._client.request(method, url, json=json, files=files, data=data, params=params)
            except self._transport_error as exc:
                if attempt > self._max_retries:
                    raise DiscordError(0, None, f"network error: {type(exc).__name__}") from exc
                self._sleep(_backoff(attempt))
                continue
            if resp.status_code < 400:
                return resp
            error = _error_from(resp)
            retryable = resp.status_code == 429 or resp.status_code >= 500
            if not retryable or attempt > self._max_retries:
                raise error
            wait = error.retry_after if error.retry_after is not None else _backoff(attempt)
            if wait > MAX_RETRY_AFTER_SECONDS:
                raise error  # a long (likely global) limit: give up now rather than hold a Lambda for minutes
            logger.info("discord %s %s -> %s, retrying in %.2fs", method, _route(path), resp.status_code, wait)
            self._sleep(wait)

    # -- endpoints -----------------------------------------------------------------------------------------------

    def gateway_url(self) -> str:
        return str(self.request("GET", "/gateway").json()["url"])

    def interact(self, payload: Mapping[str, Any]) -> None:
        """``POST /interactions``; Discord answers 204 and the outcome arrives on the gateway."""
        self.request("POST", "/interactions", json=dict(payload))

    def command_index(self, *, guild_id: str | None, channel_id: str) -> list[dict[str, Any]]:
        """Application commands visible in a guild (or, for DMs, a channel) with their current ids and versions."""
        path = (
            f"/guilds/{guild_id}/application-command-index"
            if guild_id
            else (f"/channels/{channel_id}/application-command-index")
        )
        body = self.request("GET", path).json()
        return list(body.get("application_commands", []))

    def search_command(self, channel_id: str, name: str, application_id: str) -> list[dict[str, Any]]:
        """The legacy lookup, kept as a fallback for servers without the index endpoint."""
        body = self.request(
            "GET",
            f"/channels/{channel_id}/application-commands/search",
            params={
                "type": 1,
                "query": name,
                "limit": 7,
                "include_applications": "true",
                "application_id": application_id,
            },
        ).json()
        return list(body.get("application_commands", []))

    def upload(self, channel_id: str, filename: str, content: bytes, content_type: str) -> Upload:
        """Two-step attachment upload: ask for an upload URL, then PUT the bytes there (no Authorization)."""
        body = self.request(
            "POST",
            f"/channels/{channel_id}/attachments",
            json={"files": [{"filename": filename, "file_size": len(content), "id": "0"}]},
        ).json()
        slot = body["attachments"][0]
        resp = self._plain.put(slot["upload_url"], content=content, headers={"Content-Type": content_type})
        if resp.status_code >= 400:
            raise DiscordError(resp.status_code, None, "attachment upload was refused")
        return Upload(filename=filename, uploaded_filename=str(slot["upload_filename"]))

    def add_reaction(self, channel_id: str, message_id: str, emoji: str) -> None:
        """``PUT .../reactions/{emoji}/@me`` as this account (✉️ on a Midjourney job message asks the bot for its
        seed). A unicode emoji goes URL-encoded in the path; Discord answers 204, and 204 again if already there."""
        self.request("PUT", f"/channels/{channel_id}/messages/{message_id}/reactions/{quote(emoji, safe='')}/@me")

    def messages(self, channel_id: str, *, limit: int = 50) -> list[dict[str, Any]]:
        return list(self.request("GET", f"/channels/{channel_id}/messages", params={"limit": limit}).json())

    def submit_inpaint(self, url: str, *, custom_id: str, mask: str, prompt: str) -> None:
        """Vary (Region): post the mask and prompt to the activity host (TA ``InpaintAsync``). The iframe token in
        ``custom_id`` authorises it, so the Discord token is not sent there."""
        body = {"customId": custom_id, "mask": mask, "prompt": prompt, "userId": "0", "username": "0"}
        try:
            resp = self._plain.post(url, json=body)
        except self._transport_error as exc:
            raise DiscordError(0, None, f"network error: {type(exc).__name__}") from exc
        if resp.status_code >= 400:
            raise _error_from(resp)

    def refresh_urls(self, urls: Sequence[str]) -> dict[str, str]:
        body = self.request("POST", "/attachments/refresh-urls", json={"attachment_urls": list(urls)}).json()
        return {str(r["original"]): str(r["refreshed"]) for r in body.get("refreshed_urls", [])}


def _error_from(resp: httpx.Response) -> DiscordError:
    code: int | None = None
    message = resp.reason_phrase or "error"
    retry_after: float | None = None
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        raw_code = body.get("code")
        code = int(raw_code) if isinstance(raw_code, int | str) and str(raw_code).isdigit() else None
        message = str(body.get("message") or body.get("error") or message)
        errors = body.get("errors")
        if errors:
            message = f"{message}: {_flatten_errors(errors)}"
        if "retry_after" in body:
            retry_after = float(body["retry_after"])
    header = resp.headers.get("Retry-After")
    if header is not None and retry_after is None:
        try:
            retry_after = float(header)
        except ValueError:
            retry_after = None
    return DiscordError(resp.status_code, code, message, retry_after=retry_after)


def _flatten_errors(errors: Any) -> str:
    """Discord nests field errors (``{"data": {"_errors": [{"code": "INVALID_VERSION", ...}]}}``); keep the codes."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for item in node.get("_errors", []):
                if isinstance(item, dict):
                    found.append(f"{item.get('code', '')} {item.get('message', '')}".strip())
            for key, value in node.items():
                if key != "_errors":
                    walk(value)

    walk(errors)
    return "; ".join(found)


def _backoff(attempt: int) -> float:
    return float(min(8.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2))


def _route(path: str) -> str:
    """Path for logs with ids blanked (ids are not secret, but logs stay compact and groupable)."""
    return "/".join(":id" if part.isdigit() else part for part in path.split("?")[0].split("/"))
