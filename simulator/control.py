"""The HTTP control API under `/_sim/` (same operations as the Python methods of `Simulator`)."""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from simulator.server import Simulator

JSON = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _out(data: Any, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data, indent=None, default=str), status=status, content_type="application/json")


async def _body(request: web.Request) -> JSON:
    raw = await request.read()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ControlError(400, "body must be JSON") from None
    if not isinstance(data, dict):
        raise ControlError(400, "body must be a JSON object")
    return data


def _need(body: JSON, key: str) -> Any:
    if key not in body:
        raise ControlError(400, f"{key} is required")
    return body[key]


def _guard(handler: Handler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ControlError as error:
            return _out({"error": str(error)}, error.status)
        except KeyError as error:
            return _out({"error": str(error.args[0]) if error.args else "not found"}, 404)
        except (ValueError, TypeError) as error:
            return _out({"error": str(error)}, 400)

    return wrapped


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes")


def control_routes(sim: Simulator) -> list[web.RouteDef]:
    async def root(request: web.Request) -> web.Response:
        return _out(sim.state())

    async def reset(request: web.Request) -> web.Response:
        body = await _body(request)
        sim.reset(keep_accounts=bool(body.get("keep_accounts", False)))
        return _out(sim.state())

    async def speed(request: web.Request) -> web.Response:
        if request.method == "POST":
            body = await _body(request)
            sim.set_speed(float(_need(body, "speed")))
        return _out({"speed": sim.speed})

    async def accounts(request: web.Request) -> web.Response:
        if request.method == "POST":
            body = await _body(request)
            allowed = {
                "name",
                "plan",
                "mode",
                "fast_hours",
                "remix",
                "stealth",
                "concurrency",
                "max_queued",
                "guild_id",
                "subscription_active",
                "token",
            }
            unknown = set(body) - allowed
            if unknown:
                raise ControlError(400, f"unknown fields: {', '.join(sorted(unknown))}")
            name = body.pop("name", None)
            account = sim.add_account(name, **body)
            return _out(account.to_json(), 201)
        return _out([a.to_json() for a in sim.accounts])

    async def account(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        if request.method == "PATCH":
            body = await _body(request)
            return _out(sim.update_account(key, **body).to_json())
        return _out(sim.account(key).to_json())

    async def channels(request: web.Request) -> web.Response:
        body = await _body(request)
        channel = sim.add_channel(request.match_info["key"], str(body.get("name") or "midjourney"))
        return _out(channel.to_json(), 201)

    async def events(request: web.Request) -> web.Response:
        body = await _body(request)
        event = body.get("event")
        if not isinstance(event, str):
            raise ControlError(400, "event is required")
        account = sim.trigger(request.match_info["key"], event, variant=str(body.get("variant", "embed")))
        return _out(account.to_json())

    async def clear_event(request: web.Request) -> web.Response:
        return _out(sim.clear_event(request.match_info["key"], request.match_info["event"]).to_json())

    async def sessions(request: web.Request) -> web.Response:
        return _out(sim.sessions(request.match_info["key"]))

    async def gateway(request: web.Request) -> web.Response:
        body = await _body(request)
        action = body.get("action")
        if not isinstance(action, str):
            raise ControlError(400, "action is required")
        seconds = body.get("seconds")
        affected = sim.gateway_fault(
            request.match_info["key"],
            action,
            session_id=body.get("session_id"),
            seconds=float(seconds) if seconds is not None else None,
            code=int(body.get("code", 4000)),
            resumable=bool(body.get("resumable", True)),
        )
        return _out({"affected": affected})

    async def dispatch_faults(request: web.Request) -> web.Response:
        body = await _body(request)
        faults = sim.dispatch_faults(
            request.match_info["key"],
            delay=body.get("delay"),
            delay_count=body.get("delay_count"),
            duplicate=body.get("duplicate"),
            reorder=body.get("reorder"),
            drop=body.get("drop"),
        )
        return _out(faults.to_json())

    async def faults(request: web.Request) -> web.Response:
        if request.method == "DELETE":
            sim.clear_faults()
        return _out(sim.faults())

    async def rest_faults(request: web.Request) -> web.Response:
        body = await _body(request)
        fault = sim.fail_requests(
            int(body.get("count", 1)),
            int(body.get("status", 429)),
            route=body.get("route"),
            method=body.get("method"),
            account=body.get("account"),
            retry_after=float(body.get("retry_after", 1.0)),
        )
        return _out(fault.to_json(), 201)

    async def bot_faults(request: web.Request) -> web.Response:
        body = await _body(request)
        return _out(
            sim.bot_faults(offline=body.get("offline"), drop_interactions=body.get("drop_interactions")).to_json()
        )

    async def commands(request: web.Request) -> web.Response:
        out = {}
        for app in sim.world.commands.apps.values():
            out[app.key] = {c.name: {"id": c.id, "version": c.version} for c in app.commands}
        return _out({"version": sim.world.commands.index_version, "bots": out})

    async def bump(request: web.Request) -> web.Response:
        version = sim.bump_command(request.match_info["bot"], request.match_info["name"])
        return _out({"version": version})

    async def jobs(request: web.Request) -> web.Response:
        found = sim.jobs(request.query.get("account"), request.query.get("status"))
        return _out([j.to_json() for j in found])

    async def job(request: web.Request) -> web.Response:
        return _out(sim.job(request.match_info["job_id"]).to_json())

    async def cancel(request: web.Request) -> web.Response:
        return _out({"cancelled": sim.cancel_job(request.match_info["job_id"])})

    async def messages(request: web.Request) -> web.Response:
        return _out(
            sim.messages(
                request.match_info["channel_id"],
                include_ephemeral=request.query.get("include_ephemeral", "1") != "0",
                include_deleted=_flag(request.query.get("include_deleted")),
            )
        )

    async def event_log(request: web.Request) -> web.Response:
        limit = int(request.query.get("limit", "200"))
        return _out(sim.events(request.query.get("account"), request.query.get("type"), limit))

    async def cdn_advance(request: web.Request) -> web.Response:
        body = await _body(request)
        return _out({"offset": sim.advance_cdn_clock(float(body.get("seconds", 0)))})

    async def cdn_ttl(request: web.Request) -> web.Response:
        body = await _body(request)
        return _out({"ttl": sim.set_cdn_ttl(float(_need(body, "seconds")))})

    async def banned(request: web.Request) -> web.Response:
        if request.method == "PUT":
            body = await _body(request)
            words = body.get("words")
            if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
                raise ControlError(400, "words must be a list of strings")
            sim.set_banned_words(words)
        return _out({"words": sim.banned_words})

    async def rate_limits(request: web.Request) -> web.Response:
        if request.method == "POST":
            body = await _body(request)
            sim.set_rate_limit(
                enabled=body.get("enabled"),
                bucket=body.get("bucket"),
                limit=body.get("limit"),
                window=body.get("window"),
            )
        return _out(sim.rate_limits())

    table: list[tuple[str, str, Handler]] = [
        ("GET", "", root),
        ("GET", "/state", root),
        ("POST", "/reset", reset),
        ("GET", "/speed", speed),
        ("POST", "/speed", speed),
        ("GET", "/accounts", accounts),
        ("POST", "/accounts", accounts),
        ("GET", "/accounts/{key}", account),
        ("PATCH", "/accounts/{key}", account),
        ("POST", "/accounts/{key}/channels", channels),
        ("POST", "/accounts/{key}/events", events),
        ("DELETE", "/accounts/{key}/events/{event}", clear_event),
        ("GET", "/accounts/{key}/sessions", sessions),
        ("POST", "/accounts/{key}/gateway", gateway),
        ("POST", "/accounts/{key}/dispatch-faults", dispatch_faults),
        ("GET", "/faults", faults),
        ("DELETE", "/faults", faults),
        ("POST", "/faults/rest", rest_faults),
        ("POST", "/faults/bot", bot_faults),
        ("GET", "/commands", commands),
        ("POST", "/commands/{bot}/{name}/bump", bump),
        ("GET", "/jobs", jobs),
        ("GET", "/jobs/{job_id}", job),
        ("POST", "/jobs/{job_id}/cancel", cancel),
        ("GET", "/channels/{channel_id}/messages", messages),
        ("GET", "/events", event_log),
        ("POST", "/cdn/advance", cdn_advance),
        ("POST", "/cdn/ttl", cdn_ttl),
        ("GET", "/banned-words", banned),
        ("PUT", "/banned-words", banned),
        ("GET", "/rate-limits", rate_limits),
        ("POST", "/rate-limits", rate_limits),
    ]
    return [web.route(method, "/_sim" + path, _guard(handler)) for method, path, handler in table]


def index_page(sim: Simulator) -> str:
    urls = sim.urls
    rows = "".join(
        f"<tr><td>{html.escape(a.username)}</td><td><code>{a.user_id}</code></td><td><code>{a.channel_id}</code></td>"
        f"<td>{a.plan}</td><td>{a.mode}</td><td>{len(a.running)}/{len(a.queued)}</td></tr>"
        for a in sim.accounts[:200]
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>mjapi simulator</title></head>"
        "<body style='font-family:sans-serif;max-width:60em;margin:2em auto'>"
        "<h1>Discord + Midjourney simulator</h1>"
        "<p>Point your client at these URLs instead of Discord's. See <code>simulator/README.md</code>.</p><ul>"
        + "".join(f"<li>{html.escape(k)}: <code>{html.escape(v)}</code></li>" for k, v in urls.to_json().items())
        + "</ul><h2>Accounts</h2><table border='1' cellpadding='4'><tr><th>name</th><th>user id</th><th>channel</th>"
        "<th>plan</th><th>mode</th><th>running/queued</th></tr>" + rows + "</table>"
        "<p>Control API: <code>GET /_sim</code>, <code>POST /_sim/accounts</code>, ... (JSON)</p></body></html>"
    )
