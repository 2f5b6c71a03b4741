"""A small typed client of the original ``/midjourney/*`` API: one method per endpoint the CLI uses.

Tokens travel as ``Authorization: Bearer`` and the admin key as ``x-admin-key`` (never in URLs, which proxies log).
Every non-2xx answer becomes an ``ApiFailure`` carrying the API's own ``{code, message}``.
"""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

FINISHED = frozenset({"succeeded", "failed", "cancelled"})
# Job kinds whose result has its own view (the prompts), read once the job is done.
RESULT_VIEWS = {"describe": "/midjourney/descjob", "shorten": "/midjourney/shortenjob"}


class ApiFailure(Exception):
    """The API refused a request (or could not be reached): its error code and message."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Settings:
    url: str
    token: str | None = None
    admin_key: str | None = None
    timeout: float = 60.0


def data_url(path: Path) -> str:
    """A file as a data URL (masks and blends travel as JSON fields)."""
    kind = mimetypes.guess_type(path.name)[0] or "image/png"
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode()}"


class MjapiClient:
    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self._http = httpx.Client(
            base_url=settings.url.rstrip("/"), timeout=settings.timeout, transport=transport, follow_redirects=False
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MjapiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------------------------------

    def _headers(self, admin: bool) -> dict[str, str]:
        if admin:
            if not self.settings.admin_key:
                raise ApiFailure("admin_key_missing", "This needs the admin key: set MJAPI_ADMIN_KEY or --admin-key.")
            return {"x-admin-key": self.settings.admin_key}
        if self.settings.token:
            return {"authorization": f"Bearer {self.settings.token}"}
        if self.settings.admin_key:  # the admin reads every job and the accounts
            return {"x-admin-key": self.settings.admin_key}
        raise ApiFailure("token_missing", "No API token: set MJAPI_TOKEN or --token (`mjapi token create` mints one).")

    def request(self, method: str, path: str, *, admin: bool = False, **kwargs: Any) -> Any:
        try:
            resp = self._http.request(method, path, headers=self._headers(admin), **kwargs)
        except httpx.HTTPError as exc:
            raise ApiFailure("unreachable", f"{self.settings.url}: {exc}") from exc
        try:
            body = resp.json()
        except ValueError:
            body = None
        if resp.status_code >= 400:
            if isinstance(body, dict) and "code" in body:
                raise ApiFailure(str(body["code"]), str(body.get("message", "")), resp.status_code)
            raise ApiFailure(f"http_{resp.status_code}", resp.text[:300] or resp.reason_phrase, resp.status_code)
        if body is None:
            raise ApiFailure("bad_response", f"{path} did not answer JSON", resp.status_code)
        return body

    # -- jobs ----------------------------------------------------------------------------------------------------------

    def imagine(
        self, prompt: str, *, mode: str | None = None, bot: str = "mj", upscale: bool = False
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": prompt, "bot": bot, "upscale": upscale}
        if mode:
            body["mode"] = mode
        return dict(self.request("POST", "/midjourney/imagine", json=body))

    def action(self, job: str, action: str, *, prompt: str | None = None, mask: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"job": job, "action": action}
        if prompt is not None:
            body["prompt"] = prompt
        if mask is not None:
            body["mask"] = mask
        return dict(self.request("POST", "/midjourney/action", json=body))

    def describe_file(self, path: Path, *, bot: str = "mj") -> dict[str, Any]:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        files = {"image": (path.name, path.read_bytes(), kind)}
        return dict(self.request("POST", "/midjourney/describe", files=files, data={"bot": bot}))

    def describe_link(self, link: str, *, bot: str = "mj") -> dict[str, Any]:
        return dict(self.request("POST", "/midjourney/describe_link", json={"link": link, "bot": bot}))

    def blend(
        self, paths: list[Path], *, dimensions: str | None = None, mode: str | None = None, bot: str = "mj"
    ) -> dict[str, Any]:
        files = [
            (f"image{n}", (p.name, p.read_bytes(), mimetypes.guess_type(p.name)[0] or "application/octet-stream"))
            for n, p in enumerate(paths, 1)
        ]
        data = {"bot": bot, **({"dimensions": dimensions} if dimensions else {}), **({"mode": mode} if mode else {})}
        return dict(self.request("POST", "/midjourney/blend", files=files, data=data))

    def shorten(self, prompt: str, *, bot: str = "mj") -> dict[str, Any]:
        return dict(self.request("POST", "/midjourney/shorten", json={"prompt": prompt, "bot": bot}))

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self.request("GET", "/midjourney/job", params={"id": job_id}))

    def result(self, job: dict[str, Any]) -> dict[str, Any]:
        """The job's final view: describe and shorten jobs answer with their prompts, the others as ``job``."""
        path = RESULT_VIEWS.get(str(job.get("kind")))
        if path is None:
            return job
        view = dict(self.request("GET", path, params={"id": job["id"]}))
        return {**job, **view}

    def history(self, *, limit: int = 20, cursor: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        return dict(self.request("GET", "/midjourney/history", params=params))

    def cancel(self, job_id: str) -> dict[str, Any]:
        return dict(self.request("POST", "/midjourney/cancel", json={"id": job_id}))

    def seed(self, job_id: str) -> dict[str, Any]:
        return dict(self.request("POST", "/midjourney/seed", json={"id": job_id}))

    def download(self, url: str) -> bytes:
        try:
            resp = self._http.get(url, headers={})
        except httpx.HTTPError as exc:
            raise ApiFailure("download_failed", f"{url}: {exc}") from exc
        if resp.status_code != 200:
            raise ApiFailure("download_failed", f"{url}: HTTP {resp.status_code}", resp.status_code)
        return resp.content

    def account_modes(self) -> dict[str, str]:
        """Channel id -> mode of every account (a job names its account by channel, ``client_id``). The admin's
        account list has the channels; an API client's ``get_devices`` hides them, so it maps nothing."""
        try:
            devices = self.accounts()
        except ApiFailure:
            return {}
        return {str(d["channelID"]): str(d.get("patternType")) for d in devices if d.get("channelID")}

    # -- admin ---------------------------------------------------------------------------------------------------------

    def accounts(self) -> list[dict[str, Any]]:
        admin = bool(self.settings.admin_key)
        path = "/admin/accounts" if admin else "/midjourney/get_devices"
        return list(self.request("GET", path, admin=admin))

    def enable_account(self, account_id: str) -> dict[str, Any]:
        return dict(self.request("POST", f"/admin/accounts/{quote(account_id, safe='')}/enable", admin=True))

    def switch(self, account_id: str, command: str) -> dict[str, Any]:
        params = {"type": command, "account": account_id}
        return dict(self.request("GET", "/midjourney/switch", params=params, admin=True))

    def create_token(self, *, count: int, days: float | None, label: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"count": count}
        if days is not None:
            params["days"] = days
        if label:
            params["label"] = label
        return dict(self.request("GET", "/midjourney/create_token", params=params, admin=True))
