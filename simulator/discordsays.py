"""The `https://{application_id}.discordsays.com` activity host: Vary Region submit and the captcha pages.

Served under `/discordsays/{application_id}`; the `/.proxy/` prefix some clients use is accepted too. As on the real
host (TA notes), Niji's Vary Region jobs may be posted to Midjourney's application id: the iframe token decides.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

if TYPE_CHECKING:
    from simulator.server import Simulator

JSON = dict[str, Any]


def _json(data: JSON, status: int = 200) -> web.Response:
    return web.Response(text=json.dumps(data), status=status, content_type="application/json")


def _page(title: str, body: str) -> web.Response:
    text = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body style='font-family:sans-serif;max-width:40em;margin:3em auto'><h1>{html.escape(title)}</h1>{body}"
        "</body></html>"
    )
    return web.Response(text=text, content_type="text/html")


class DiscordSays:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def routes(self) -> list[web.RouteDef]:
        out: list[web.RouteDef] = []
        for proxy in ("", "/.proxy"):
            base = "/discordsays/{application_id}" + proxy
            out += [
                web.post(base + "/inpaint/api/submit-job", self.submit_job),
                web.post(base + "/inpaint/api/submit-job/{token}", self.submit_job),
                web.get(base + "/inpaint/api/get-image-info/{a}/{b}/{token}", self.image_info),
                web.get(base + "/inpaint/index.html", self.inpaint_page),
                web.get(base + "/captcha/api/c/{token}/ack", self.captcha_ack),
                web.get(base + "/captcha/embedded/{token}", self.captcha_page),
                web.get(base + "/captcha/challenge/index.html", self.captcha_challenge),
            ]
        return out

    def _known_app(self, request: web.Request) -> bool:
        return request.match_info["application_id"] in self.sim.world.commands.apps

    async def submit_job(self, request: web.Request) -> web.Response:
        if not self._known_app(request):
            return _json({"success": False, "error": "Unknown application"}, 404)
        try:
            body = json.loads(await request.read() or b"{}")
        except ValueError:
            return _json({"success": False, "error": "Body must be JSON"}, 400)
        if not isinstance(body, dict):
            return _json({"success": False, "error": "Body must be a JSON object"}, 400)
        token = str(body.get("customId") or request.match_info.get("token") or "")
        mask = body.get("mask")
        if not token or not isinstance(mask, str) or not mask:
            return _json({"success": False, "error": "customId and mask are required"}, 400)
        prompt = body.get("prompt") or body.get("full_prompt") or ""
        status, data = await self.sim.engine.handlers.inpaint_submit(token, mask, str(prompt))
        return _json(data, status)

    async def image_info(self, request: web.Request) -> web.Response:
        if not self._known_app(request):
            return _json({"success": False, "error": "Unknown application"}, 404)
        status, data = self.sim.engine.handlers.image_info(request.match_info["token"])
        return _json(data, status)

    async def inpaint_page(self, request: web.Request) -> web.Response:
        custom_id = html.escape(request.query.get("custom_id", ""))
        return _page(
            "Vary (Region) editor",
            "<p>This page stands in for Midjourney's region editor. Submit the selection with "
            "<code>POST inpaint/api/submit-job</code> and the body "
            '<code>{"customId": &lt;token&gt;, "mask": &lt;base64 PNG&gt;, "prompt": "..."}</code>.</p>'
            f"<p>custom_id: <code>{custom_id}</code></p>",
        )

    async def captcha_ack(self, request: web.Request) -> web.Response:
        status, data = self.sim.engine.handlers.captcha_ack(request.match_info["token"])
        if status == 200:
            base = self.sim.urls.discordsays_for(request.match_info["application_id"])
            data["challenge_url"] = f"{base}/captcha/challenge/index.html?hash={data['hash']}&token={data['token']}"
        return _json(data, status)

    async def captcha_page(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        status, data = self.sim.engine.handlers.captcha_ack(token)
        if status != 200:
            return _page("Captcha", "<p>This captcha is unknown or already solved.</p>")
        link = f"../challenge/index.html?hash={html.escape(data['hash'])}&amp;token={html.escape(token)}"
        return _page("Action required to continue", f"<p><a href='{link}'>I am human (simulated challenge)</a></p>")

    async def captcha_challenge(self, request: web.Request) -> web.Response:
        """Stands in for editor.midjourney.com's challenge page: opening it solves the captcha."""
        solved = self.sim.engine.handlers.captcha_solve(request.query.get("hash", ""), request.query.get("token", ""))
        if not solved:
            return web.Response(status=404, text="Unknown or expired challenge.")
        return _page("Verified", "<p>Thanks! You can continue using Midjourney.</p>")
