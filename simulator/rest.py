"""Discord REST v9 (and v10) for user tokens: the endpoints an unofficial Midjourney client calls.

A middleware authenticates (`Authorization: <raw token>`), applies injected faults and rate limits, turns
`ApiError` into `{code, message}` JSON and adds the rate-limit headers to every `/api` response.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from aiohttp import BodyPartReader, web
from aiohttp.web_exceptions import HTTPException

from simulator import constants as C
from simulator import errors
from simulator.commands import BotApp
from simulator.errors import ApiError
from simulator.gateway import member_json
from simulator.ids import derive_rng, is_snowflake, iso_timestamp, random_token_part, random_uuid, safe_filename
from simulator.images import probe_image
from simulator.interactions import validate_interaction
from simulator.ratelimit import RateLimiter, RestFaults, Verdict, limited_headers
from simulator.state import Account, AttachmentRecord, Channel, MessageRecord, Upload

if TYPE_CHECKING:
    from simulator.server import Simulator

JSON = dict[str, Any]
log = logging.getLogger("simulator.rest")
API = r"/api/v{version:(?:9|10)}"
UPLOAD_PREFIX = "/discord-attachments-uploads-prd"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ACCOUNT_KEY = web.RequestKey("account", Account)


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(data, separators=(",", ":"), ensure_ascii=False),
        status=status,
        content_type="application/json",
        headers=headers,
    )


def _bucket_of(canonical: str) -> str:
    if canonical.endswith("/interactions"):
        return "interactions"
    if "/reactions/" in canonical:
        return "reactions"
    if canonical.endswith("/refresh-urls"):
        return "refresh-urls"
    if canonical.endswith("/attachments"):
        return "attachments"
    if "/messages" in canonical:
        return "messages"
    return "default"


class RestApi:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.world = sim.world
        self.engine = sim.engine
        self.limiter = RateLimiter(sim.config.rate_limits)
        self.faults = RestFaults()
        self._upload_counter: dict[str, int] = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get(API + "/gateway", self.gateway),
            web.get(API + "/users/@me", self.me),
            web.get(API + "/users/@me/channels", self.my_channels),
            web.get(API + "/users/@me/guilds", self.my_guilds),
            web.get(API + "/users/@me/billing/country-code", self.country_code),
            web.get(API + "/users/@me/application-command-index", self.user_command_index),
            web.get(API + "/users/{user_id}", self.get_user),
            web.get(API + "/users/{user_id}/profile", self.user_profile),
            web.get(API + "/guilds/{guild_id}/application-command-index", self.guild_command_index),
            web.get(API + "/channels/{channel_id}", self.get_channel),
            web.get(API + "/channels/{channel_id}/application-command-index", self.channel_command_index),
            web.get(API + "/channels/{channel_id}/application-commands/search", self.command_search),
            web.get(API + "/channels/{channel_id}/messages", self.list_messages),
            web.post(API + "/channels/{channel_id}/messages", self.create_message),
            web.get(API + "/channels/{channel_id}/messages/{message_id}", self.get_message),
            web.delete(API + "/channels/{channel_id}/messages/{message_id}", self.delete_message),
            web.post(API + "/channels/{channel_id}/messages/{message_id}/ack", self.ack_message),
            web.put(API + "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.add_reaction),
            web.delete(
                API + "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me", self.remove_reaction
            ),
            web.post(API + "/channels/{channel_id}/attachments", self.create_attachments),
            web.post(API + "/channels/{channel_id}/typing", self.typing),
            web.post(API + "/interactions", self.interactions),
            web.post(API + "/attachments/refresh-urls", self.refresh_urls),
            web.put(UPLOAD_PREFIX + "/{upload_filename:.+}", self.upload),
        ]

    # ----- middleware ------------------------------------------------------------------------------------------
    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith("/api/"):
            return await handler(request)
        match = request.match_info
        if match.http_exception is not None:
            status = match.http_exception.status
            message = "405: Method Not Allowed" if status == 405 else "404: Not Found"
            return json_response({"message": message, "code": 0}, status=404 if status != 405 else 405)
        canonical = match.route.resource.canonical if match.route.resource is not None else request.path
        account: Account | None = None
        if not canonical.endswith("/gateway"):
            account = self.world.authenticate(request.headers.get("Authorization"))
        fault = self.faults.take(request.path, request.method, account.user_id if account else None)
        if fault is not None:
            return self._fault_response(fault.status, fault.retry_after)
        if account is None and not canonical.endswith("/gateway"):
            return json_response(errors.unauthorized().body(), status=401)
        verdict = Verdict(True, {})
        if account is not None:
            bucket = _bucket_of(canonical)
            major = match.get("channel_id") or match.get("guild_id") or ""
            verdict = self.limiter.check(account.user_id, bucket, major)
            if not verdict.allowed:
                return json_response(verdict.body(), status=429, headers=verdict.headers)
        if account is not None:
            request[ACCOUNT_KEY] = account
        try:
            response = await handler(request)
        except ApiError as error:
            response = json_response(error.body(), status=error.status)
        except HTTPException:
            raise
        except json.JSONDecodeError:
            response = json_response({"message": "The request body contains invalid JSON.", "code": 50109}, status=400)
        for key, value in verdict.headers.items():
            response.headers[key] = value
        return response

    @staticmethod
    def _fault_response(status: int, retry_after: float) -> web.Response:
        if status == 429:
            body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": False}
            return json_response(body, status=429, headers=limited_headers(retry_after))
        if status in (502, 503, 504):
            # Cloudflare answers these with HTML, so clients must not assume a JSON error body.
            html = (
                f"<html><head><title>{status} Bad Gateway</title></head>"
                f"<body><center><h1>{status}</h1></center></body></html>"
            )
            return web.Response(status=status, text=html, content_type="text/html")
        return json_response(
            {"message": f"{status}: {'Internal Server Error' if status >= 500 else 'Error'}", "code": 0}, status=status
        )

    # ----- helpers ---------------------------------------------------------------------------------------------
    @staticmethod
    def account(request: web.Request) -> Account:
        if ACCOUNT_KEY not in request:
            raise errors.unauthorized()
        return request[ACCOUNT_KEY]

    def channel(self, request: web.Request, account: Account) -> Channel:
        channel_id = request.match_info["channel_id"]
        channel = self.world.channels.get(channel_id)
        if channel is None:
            raise errors.unknown_channel()
        if not self.world.can_see(account, channel):
            raise errors.missing_access()
        return channel

    def channel_json(self, channel: Channel) -> JSON:
        data = channel.to_json()
        if channel.type == 1:
            data["recipients"] = [self.world.commands.apps[b].user_json() for b in channel.bot_app_ids]
        return data

    @staticmethod
    async def read_json(request: web.Request) -> Any:
        raw = await request.read()
        if not raw:
            return {}
        return json.loads(raw)

    @staticmethod
    async def read_payload(request: web.Request) -> tuple[Any, dict[str, tuple[str, bytes]]]:
        """A JSON body, or `multipart/form-data` with `payload_json` and `files[N]` parts."""
        if not request.content_type.startswith("multipart/"):
            return await RestApi.read_json(request), {}
        reader = await request.multipart()
        payload: Any = {}
        files: dict[str, tuple[str, bytes]] = {}
        while True:
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                continue
            name = part.name or ""
            data = await part.read()
            if len(data) > C.MAX_UPLOAD_BYTES:
                raise ApiError(413, 40005, "Request entity too large")
            if name == "payload_json":
                payload = json.loads(data)
            elif name.startswith("files["):
                files[name] = (part.filename or "file", bytes(data))
        return payload, files

    def message_out(self, record: MessageRecord) -> JSON:
        return self.engine.resign(record.data)

    # ----- users, guilds, channels -----------------------------------------------------------------------------
    async def gateway(self, request: web.Request) -> web.Response:
        return json_response({"url": self.sim.urls.gateway})

    async def me(self, request: web.Request) -> web.Response:
        return json_response(self.account(request).me_json())

    async def my_channels(self, request: web.Request) -> web.Response:
        account = self.account(request)
        return json_response([self.channel_json(self.world.channels[c]) for c in account.dm_channel_ids.values()])

    async def my_guilds(self, request: web.Request) -> web.Response:
        account = self.account(request)
        guilds: list[JSON] = [
            {
                "id": g.id,
                "name": g.name,
                "icon": None,
                "owner": g.owner_id == account.user_id,
                "permissions": "1071698660929",
                "features": [],
            }
            for g in self.world.guilds.values()
            if account.user_id in g.member_ids
        ]
        return json_response(guilds)

    def _user(self, account: Account, raw_id: str) -> tuple[JSON, Account | BotApp]:
        """The public user object of an account or bot by id (`@me` is the caller); 10013 when nobody has it."""
        user_id = account.user_id if raw_id == "@me" else raw_id
        if not is_snowflake(user_id):
            raise errors.form_error("user_id", "NUMBER_TYPE_COERCE", f'Value "{user_id}" is not snowflake.')
        extra = {"flags": 0, "banner": None, "accent_color": None, "banner_color": None}
        app = self.world.commands.app(user_id)
        if app is not None:
            return {**app.user_json(), **extra, "flags": app.user_json()["public_flags"]}, app
        other = self.world.accounts.get(user_id)
        if other is None:
            raise ApiError(404, 10013, "Unknown User")
        return {**other.user_json(), **extra}, other

    def _mutual_guilds(self, account: Account, target: Account | BotApp) -> list[str]:
        return [
            g.id
            for g in self.world.guilds.values()
            if account.user_id in g.member_ids
            and (target.id in g.bot_app_ids if isinstance(target, BotApp) else target.user_id in g.member_ids)
        ]

    async def get_user(self, request: web.Request) -> web.Response:
        """`GET /users/{id}`: any user the simulator knows (user clients look bots up before a slash command)."""
        account = self.account(request)
        user, _ = self._user(account, request.match_info["user_id"])
        return json_response(user)

    async def user_profile(self, request: web.Request) -> web.Response:
        """`GET /users/{id}/profile?with_mutual_guilds=&guild_id=`: readable for yourself, users you share a guild
        or DM with (403 50001 otherwise); bots carry their `application`."""
        account = self.account(request)
        user, target = self._user(account, request.match_info["user_id"])
        query = request.query
        is_self = target is account
        mutual = self._mutual_guilds(account, account if is_self else target)
        has_dm = isinstance(target, BotApp) and any(
            target.id in self.world.channels[c].bot_app_ids for c in account.dm_channel_ids.values()
        )
        if not (is_self or mutual or has_dm):
            raise errors.missing_access()
        guild_id = query.get("guild_id")
        if guild_id is not None and not is_snowflake(guild_id):
            raise errors.form_error("guild_id", "NUMBER_TYPE_COERCE", f'Value "{guild_id}" is not snowflake.')
        bio = target.description if isinstance(target, BotApp) else ""
        profile: JSON = {
            "user": {**user, "bio": bio},
            "connected_accounts": [],
            "premium_since": None,
            "premium_type": None if isinstance(target, BotApp) else 0,
            "premium_guild_since": None,
            "profile_themes_experiment_bucket": 4,
            "user_profile": {
                "bio": bio,
                "accent_color": None,
                "pronouns": "",
                "banner": None,
                "theme_colors": None,
                "popout_animation_particle_type": None,
                "emoji": None,
            },
            "badges": [],
            "guild_badges": [],
            "legacy_username": f"{user['username']}#{user['discriminator']}" if user["discriminator"] != "0" else None,
        }
        if query.get("with_mutual_guilds", "false").lower() == "true" and not is_self:
            profile["mutual_guilds"] = [{"id": g, "nick": None} for g in mutual]
        if query.get("with_mutual_friends", "false").lower() == "true" and not is_self:
            profile["mutual_friends"] = []
        if query.get("with_mutual_friends_count", "false").lower() == "true" and not is_self:
            profile["mutual_friends_count"] = 0
        if guild_id is not None and guild_id in mutual:
            profile["guild_member"] = member_json(user)
            profile["guild_member_profile"] = {
                "guild_id": guild_id,
                "bio": "",
                "pronouns": "",
                "banner": None,
                "accent_color": None,
                "theme_colors": None,
                "popout_animation_particle_type": None,
                "emoji": None,
            }
        if isinstance(target, BotApp):
            popular = sorted((c for c in target.commands if c.rank is not None), key=lambda c: c.rank or 0)
            profile["application"] = {
                "id": target.id,
                "flags": int(target.flags),
                "verified": True,
                "storefront_available": False,
                "popular_application_command_ids": [c.id for c in popular[:5]],
            }
        return json_response(profile)

    async def country_code(self, request: web.Request) -> web.Response:
        self.account(request)
        return json_response({"country_code": "US"})

    async def get_channel(self, request: web.Request) -> web.Response:
        account = self.account(request)
        return json_response(self.channel_json(self.channel(request, account)))

    # ----- command index ---------------------------------------------------------------------------------------
    async def user_command_index(self, request: web.Request) -> web.Response:
        self.account(request)
        return json_response(self.world.commands.index(list(self.world.commands.apps)))

    async def guild_command_index(self, request: web.Request) -> web.Response:
        account = self.account(request)
        guild = self.world.guilds.get(request.match_info["guild_id"])
        if guild is None:
            raise errors.unknown_guild()
        if account.user_id not in guild.member_ids:
            raise errors.missing_access()
        return json_response(self.world.commands.index(guild.bot_app_ids))

    async def channel_command_index(self, request: web.Request) -> web.Response:
        account = self.account(request)
        channel = self.channel(request, account)
        return json_response(self.world.commands.index(channel.bot_app_ids))

    async def command_search(self, request: web.Request) -> web.Response:
        account = self.account(request)
        channel = self.channel(request, account)
        query = request.query
        try:
            command_type = int(query.get("type", "1"))
            limit = int(query.get("limit", "10"))
        except ValueError:
            raise errors.form_error("limit", "NUMBER_TYPE_COERCE", "Value is not int.") from None
        if not 1 <= limit <= 25:
            raise errors.form_error("limit", "NUMBER_TYPE_MAX", "Must be between 1 and 25.")
        apps = list(channel.bot_app_ids)
        if "application_id" in query:
            apps = [a for a in apps if a == query["application_id"]]
        body = self.world.commands.search(
            apps,
            command_type=command_type,
            query=query.get("query"),
            limit=limit,
            include_applications=query.get("include_applications", "false").lower() == "true",
        )
        return json_response(body)

    # ----- messages --------------------------------------------------------------------------------------------
    async def list_messages(self, request: web.Request) -> web.Response:
        account = self.account(request)
        channel = self.channel(request, account)
        query = request.query
        try:
            limit = int(query.get("limit", "50"))
        except ValueError:
            raise errors.form_error("limit", "NUMBER_TYPE_COERCE", "Value is not int.") from None
        if not 1 <= limit <= 100:
            raise errors.form_error("limit", "NUMBER_TYPE_MAX", "int value should be less than or equal to 100.")
        for key in ("before", "after", "around"):
            if key in query and not is_snowflake(query[key]):
                raise errors.form_error(key, "NUMBER_TYPE_COERCE", f'Value "{query[key]}" is not snowflake.')
        records = [r for r in channel.messages.values() if not r.deleted]
        if "around" in query:
            pivot = int(query["around"])
            older = [r for r in records if int(r.id) < pivot][-(limit // 2) :] if limit > 1 else []
            newer = [r for r in records if int(r.id) >= pivot][: limit - len(older)]
            selected = older + newer
        elif "after" in query:
            pivot = int(query["after"])
            selected = [r for r in records if int(r.id) > pivot][:limit]
        elif "before" in query:
            pivot = int(query["before"])
            selected = [r for r in records if int(r.id) < pivot][-limit:]
        else:
            selected = records[-limit:]
        selected.sort(key=lambda r: int(r.id), reverse=True)
        return json_response([self.message_out(r) for r in selected])

    async def get_message(self, request: web.Request) -> web.Response:
        account = self.account(request)
        self.channel(request, account)
        raise ApiError(403, 20002, "Only bots can use this endpoint")

    async def create_message(self, request: web.Request) -> web.Response:
        account = self.account(request)
        channel = self.channel(request, account)
        payload, files = await self.read_payload(request)
        if not isinstance(payload, dict):
            raise ApiError(400, 50109, "The request body contains invalid JSON.")
        content = payload.get("content") or ""
        if not isinstance(content, str):
            raise errors.form_error("content", "BASE_TYPE_STRING", "Must be a string.")
        if len(content) > 2000:
            raise errors.form_error("content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        attachments: list[AttachmentRecord] = []
        for position, item in enumerate(payload.get("attachments") or []):
            attachments.append(self._message_attachment(account, channel, position, item, files))
        listed = {str(item.get("id")) for item in payload.get("attachments") or [] if isinstance(item, dict)}
        for name, (filename, blob) in files.items():
            if name[len("files[") : -1] not in listed:
                attachments.append(self._inline_attachment(account, channel, filename, blob))
        if not content and not attachments and not payload.get("sticker_ids"):
            raise ApiError(400, 50006, "Cannot send an empty message")
        message_id = self.world.snowflakes.next()
        data: JSON = {
            "id": message_id,
            "type": 0,
            "content": content,
            "channel_id": channel.id,
            "author": account.user_json(),
            "attachments": [self.engine.attachment_json(a) for a in attachments],
            "embeds": [],
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "mention_everyone": False,
            "tts": False,
            "timestamp": iso_timestamp(self.sim.now()),
            "edited_timestamp": None,
            "flags": 0,
            "components": [],
        }
        record = MessageRecord(data=data, channel_id=channel.id, kind="user")
        self.world.store_message(record)
        outgoing = self.engine.outgoing(record)
        reply = dict(record.data)
        nonce = payload.get("nonce")
        if isinstance(nonce, (str, int)) and not isinstance(nonce, bool):
            # Echoed in the response and MESSAGE_CREATE only, like Discord (fetched messages have no nonce).
            outgoing["nonce"] = reply["nonce"] = str(nonce)
        if channel.guild_id:
            outgoing["member"] = {
                "roles": [],
                "joined_at": "2022-04-15T05:20:00.000000+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "nick": None,
            }
        self.sim.hub.dispatch(channel.member_ids, "MESSAGE_CREATE", outgoing)
        return json_response(reply)

    def _message_attachment(
        self, account: Account, channel: Channel, position: int, item: Any, files: dict[str, tuple[str, bytes]]
    ) -> AttachmentRecord:
        if not isinstance(item, dict):
            raise errors.form_error(f"attachments.{position}", "MODEL_TYPE_CONVERT", "Only dictionaries may be used.")
        uploaded = item.get("uploaded_filename")
        if uploaded:
            upload = self.world.uploads.get(str(uploaded))
            if upload is None or upload.data is None or upload.user_id != account.user_id:
                raise errors.form_error(
                    f"attachments.{position}.uploaded_filename",
                    "ATTACHMENT_NOT_FOUND",
                    "The uploaded file was not found; PUT it to its upload_url first.",
                )
            return self._attachment_for(
                channel, str(item.get("filename") or upload.filename), upload.data, upload.upload_filename
            )
        key = f"files[{item.get('id')}]"
        if key in files:
            filename, blob = files[key]
            return self._inline_attachment(account, channel, str(item.get("filename") or filename), blob)
        raise errors.form_error(f"attachments.{position}", "ATTACHMENT_NOT_FOUND", "Attachment has no file")

    def _inline_attachment(self, account: Account, channel: Channel, filename: str, blob: bytes) -> AttachmentRecord:
        key = f"inline/{self.world.snowflakes.next()}/{filename}"
        upload = Upload(key, filename, channel.id, account.user_id, len(blob), "inline")
        self.world.add_upload(upload)
        self.world.complete_upload(upload, blob)
        return self._attachment_for(channel, filename, blob, key)

    def _attachment_for(self, channel: Channel, filename: str, blob: bytes, key: str) -> AttachmentRecord:
        probe = probe_image(blob)
        record = AttachmentRecord(
            id=self.world.snowflakes.next(),
            channel_id=channel.id,
            filename=safe_filename(filename),
            content_type=probe[2] if probe else "application/octet-stream",
            size=len(blob),
            width=probe[0] if probe else None,
            height=probe[1] if probe else None,
            upload_key=key,
        )
        self.world.add_attachment(record)
        return record

    def _find(self, request: web.Request, account: Account) -> tuple[Channel, MessageRecord]:
        channel = self.channel(request, account)
        record = self.world.message_index.get(request.match_info["message_id"])
        if record is None or record.deleted or record.channel_id != channel.id:
            raise errors.unknown_message()
        return channel, record

    async def delete_message(self, request: web.Request) -> web.Response:
        account = self.account(request)
        _, record = self._find(request, account)
        if str(record.data.get("author", {}).get("id")) != account.user_id:
            raise ApiError(403, 50013, "Missing Permissions")
        self.engine.delete(record)
        return web.Response(status=204)

    async def ack_message(self, request: web.Request) -> web.Response:
        account = self.account(request)
        self._find(request, account)
        return json_response({"token": None})

    async def typing(self, request: web.Request) -> web.Response:
        account = self.account(request)
        self.channel(request, account)
        return web.Response(status=204)

    async def add_reaction(self, request: web.Request) -> web.Response:
        account = self.account(request)
        channel, record = self._find(request, account)
        emoji = unquote(request.match_info["emoji"])
        if not emoji or len(emoji) > 64:
            raise ApiError(400, 10014, "Unknown Emoji")
        users = record.reactions.setdefault(emoji, set())
        if account.user_id in users:
            return web.Response(status=204)
        users.add(account.user_id)
        self._sync_reactions(record, account)
        self._dispatch_reaction("MESSAGE_REACTION_ADD", account, channel, record, emoji)
        self.engine.spawn(self.engine.handlers.on_reaction(account, record, emoji))
        return web.Response(status=204)

    async def remove_reaction(self, request: web.Request) -> web.Response:
        account = self.account(request)
        channel, record = self._find(request, account)
        emoji = unquote(request.match_info["emoji"])
        users = record.reactions.get(emoji)
        if users and account.user_id in users:
            users.discard(account.user_id)
            if not users:
                record.reactions.pop(emoji)
            self._sync_reactions(record, account)
            self._dispatch_reaction("MESSAGE_REACTION_REMOVE", account, channel, record, emoji)
        return web.Response(status=204)

    def _dispatch_reaction(
        self, event_type: str, account: Account, channel: Channel, record: MessageRecord, emoji: str
    ) -> None:
        """MESSAGE_REACTION_ADD / _REMOVE to the channel's members, with Discord's field names."""
        name, _, emoji_id = emoji.partition(":")
        event: JSON = {
            "user_id": account.user_id,
            "channel_id": channel.id,
            "message_id": record.id,
            "emoji": {"id": emoji_id or None, "name": name},
            "burst": False,
            "type": 0,
        }
        if channel.guild_id:
            event["guild_id"] = channel.guild_id
        self.sim.hub.dispatch(channel.member_ids, event_type, event)

    @staticmethod
    def _sync_reactions(record: MessageRecord, account: Account) -> None:
        record.data["reactions"] = [
            {
                "emoji": {"id": None, "name": emoji},
                "count": len(users),
                "me": account.user_id in users,
                "burst_colors": [],
                "count_details": {"burst": 0, "normal": len(users)},
            }
            for emoji, users in record.reactions.items()
        ]

    # ----- attachments -----------------------------------------------------------------------------------------
    async def create_attachments(self, request: web.Request) -> web.Response:
        account = self.account(request)
        channel = self.channel(request, account)
        body = await self.read_json(request)
        files = body.get("files") if isinstance(body, dict) else None
        if not isinstance(files, list) or not files:
            raise errors.form_error("files", "BASE_TYPE_REQUIRED", "This field is required")
        if len(files) > 10:
            raise errors.form_error("files", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
        out = []
        for position, item in enumerate(files):
            if not isinstance(item, dict):
                raise errors.form_error(f"files.{position}", "MODEL_TYPE_CONVERT", "Only dictionaries may be used.")
            filename = str(item.get("filename") or "").strip()
            if not filename or len(filename) > 1024 or "/" in filename:
                raise errors.form_error(
                    f"files.{position}.filename", "BASE_TYPE_REQUIRED", "A valid filename is required"
                )
            size = item.get("file_size", 0)
            if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                raise errors.form_error(f"files.{position}.file_size", "NUMBER_TYPE_COERCE", "Value is not int.")
            if size > C.MAX_UPLOAD_BYTES:
                raise ApiError(413, 40005, "Request entity too large")
            count = self._upload_counter.get(account.user_id, 0) + 1
            self._upload_counter[account.user_id] = count
            rng = derive_rng(self.sim.config.seed, "upload", account.user_id, count)
            upload_filename = f"{random_uuid(rng)}/{filename}"
            upload_id = random_token_part(rng, 64)
            self.world.add_upload(Upload(upload_filename, filename, channel.id, account.user_id, size, upload_id))
            raw_id = item.get("id", position)
            echo: Any = int(raw_id) if isinstance(raw_id, str) and raw_id.isdigit() else raw_id
            out.append(
                {
                    "id": echo,
                    "upload_url": f"{self.sim.urls.base}{UPLOAD_PREFIX}/{upload_filename}?upload_id={upload_id}",
                    "upload_filename": upload_filename,
                }
            )
        return json_response({"attachments": out})

    async def upload(self, request: web.Request) -> web.Response:
        """`PUT upload_url`: the Google Cloud Storage stand-in (no Authorization needed)."""
        upload_filename = unquote(request.match_info["upload_filename"])
        upload = self.world.uploads.get(upload_filename)
        if upload is None:
            return web.Response(status=404, text="No such upload.")
        if request.query.get("upload_id") != upload.upload_id:
            return web.Response(status=403, text="Invalid upload_id.")
        if request.content_length is not None and request.content_length > C.MAX_UPLOAD_BYTES:
            return web.Response(status=413, text="Entity too large.")
        data = await request.read()
        self.world.complete_upload(upload, data)
        return web.Response(status=200)

    async def refresh_urls(self, request: web.Request) -> web.Response:
        self.account(request)
        body = await self.read_json(request)
        urls = body.get("attachment_urls") if isinstance(body, dict) else None
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            raise errors.form_error("attachment_urls", "BASE_TYPE_REQUIRED", "This field is required")
        if len(urls) > 50:
            raise errors.form_error("attachment_urls", "BASE_TYPE_MAX_LENGTH", "Must be 50 or fewer in length.")
        refreshed = []
        for url in urls:
            fresh = self.sim.cdn.refresh(url)
            refreshed.append({"original": url, "refreshed": fresh if fresh is not None else url})
        return json_response({"refreshed_urls": refreshed})

    # ----- interactions ----------------------------------------------------------------------------------------
    async def interactions(self, request: web.Request) -> web.Response:
        account = self.account(request)
        payload, files = await self.read_payload(request)
        ctx = validate_interaction(self.world, self.engine.modals, account, payload, files)
        self.engine.accept(ctx)
        return web.Response(status=204)
