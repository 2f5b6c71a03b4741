"""Discord's side of `POST /interactions`: the checks Discord makes before an interaction reaches a bot.

`validate_interaction` turns a request body into an accepted interaction (`Ctx`) or raises the `ApiError` Discord
would answer with: unknown application, channel or message, stale command version, options that do not fit the
command's schema, attachments that were never uploaded, stale buttons, unknown or already submitted modals.
What the bot then does with the interaction lives in `simulator.bot`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from simulator import constants as C
from simulator import errors
from simulator.bot.types import Ctx, PendingModal, ResolvedAttachment
from simulator.commands import ATTACHMENT, BOOLEAN, INTEGER, STRING, SUB_COMMAND, SUB_COMMAND_GROUP
from simulator.state import Account, Origin
from simulator.world import World

JSON = dict[str, Any]
Files = dict[str, tuple[str, bytes]]

MODAL_TTL = 15 * 60.0  # Discord forgets an unanswered modal after 15 minutes
MAX_OPEN_MODALS = 10000


class OpenModals(OrderedDict[str, PendingModal]):
    """The modals bots have opened and users may still submit (once each, within `MODAL_TTL`), oldest first."""

    def add(self, modal: PendingModal) -> None:
        self[modal.id] = modal
        self.expire()

    def expire(self) -> None:
        now = time.time()
        while self:
            first = next(iter(self.values()))
            if now - first.created < MODAL_TTL and len(self) < MAX_OPEN_MODALS:
                break
            self.popitem(last=False)


def validate_interaction(world: World, modals: OpenModals, account: Account, body: Any, files: Files) -> Ctx:
    """Check a `POST /interactions` body like Discord; the accepted interaction, or an `ApiError`."""
    if not isinstance(body, dict):
        raise errors.ApiError(400, 50109, "The request body contains invalid JSON.")
    kind = body.get("type")
    if kind not in (C.INTERACTION_APPLICATION_COMMAND, C.INTERACTION_MESSAGE_COMPONENT, C.INTERACTION_MODAL_SUBMIT):
        raise errors.form_error("type", "BASE_TYPE_CHOICES", "Value must be one of {2, 3, 4, 5}.")
    app = world.commands.app(str(body.get("application_id", "")))
    if app is None:
        raise errors.ApiError(404, 10002, "Unknown Application")
    channel = world.channels.get(str(body.get("channel_id", "")))
    if channel is None:
        raise errors.unknown_channel()
    if not world.can_see(account, channel):
        raise errors.missing_access()
    if app.id not in channel.bot_app_ids:
        raise errors.ApiError(403, 50001, "Missing Access")
    guild_id = body.get("guild_id")
    if guild_id not in (None, "") and str(guild_id) != channel.guild_id:
        raise errors.form_error("guild_id", "GUILD_ID_INVALID", "Guild does not match the channel")
    session_id = body.get("session_id")
    if not isinstance(session_id, str) or not session_id:
        raise errors.form_error("session_id", "BASE_TYPE_REQUIRED", "This field is required")
    nonce = body.get("nonce")
    if nonce is not None:
        if not isinstance(nonce, (str, int)) or isinstance(nonce, bool) or len(str(nonce)) > 25:
            raise errors.form_error("nonce", "BASE_TYPE_BAD_LENGTH", "Must be 25 or fewer in length.")
        nonce = str(nonce)
    data = body.get("data")
    if not isinstance(data, dict):
        raise errors.form_error("data", "BASE_TYPE_REQUIRED", "This field is required")
    interaction_id = world.snowflakes.next()
    origin = Origin(interaction_id, kind, "", account, session_id, channel.guild_id)
    ctx = Ctx(interaction_id, kind, account, app, channel, session_id, nonce, data, origin)
    if kind == C.INTERACTION_APPLICATION_COMMAND:
        _check_command(world, ctx, files)
    elif kind == C.INTERACTION_MESSAGE_COMPONENT:
        _check_component(world, ctx, body)
    else:
        _check_modal_submit(modals, ctx)
    return ctx


def _check_command(world: World, ctx: Ctx, files: Files) -> None:
    data = ctx.data
    command = world.commands.find(ctx.app.id, str(data.get("id", "")))
    if command is None or data.get("name") not in (None, command.name):
        raise errors.invalid_command()
    if str(data.get("version", "")) != command.version:
        raise errors.invalid_version()
    if data.get("type", command.type) != command.type:
        raise errors.invalid_command()
    ctx.command = command
    ctx.attachments = _resolve_attachments(world, ctx, data.get("attachments"), files)
    if command.type == 3:
        target = str(data.get("target_id", ""))
        record = world.find_message(target)
        if record is None or record.channel_id != ctx.channel.id or record.deleted:
            raise errors.unknown_message()
        ctx.message = record
        ctx.name = command.name
    else:
        path, leaves = _check_options(data.get("options") or [], command.options, ctx.attachments)
        ctx.name = " ".join([command.name, *path])
        ctx.options = leaves
    ctx.origin.name = ctx.name


def _resolve_attachments(world: World, ctx: Ctx, raw: Any, files: Files) -> dict[str, ResolvedAttachment]:
    out: dict[str, ResolvedAttachment] = {}
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise errors.form_error("data.attachments", "BASE_TYPE_LIST", "Must be a list.")
    for position, item in enumerate(raw):
        if not isinstance(item, dict) or "id" not in item:
            raise errors.form_error(f"data.attachments.{position}.id", "BASE_TYPE_REQUIRED", "This field is required")
        attachment_id = str(item["id"])
        uploaded = item.get("uploaded_filename")
        filename = str(item.get("filename") or "")
        if uploaded:
            upload = world.uploads.get(str(uploaded))
            if upload is None or upload.data is None or upload.user_id != ctx.account.user_id:
                raise errors.form_error(
                    f"data.attachments.{position}.uploaded_filename",
                    "ATTACHMENT_NOT_FOUND",
                    "The uploaded file was not found; PUT it to its upload_url first.",
                )
            out[attachment_id] = ResolvedAttachment(attachment_id, filename or upload.filename, upload.data, upload)
        elif f"files[{attachment_id}]" in files:
            name, blob = files[f"files[{attachment_id}]"]
            out[attachment_id] = ResolvedAttachment(attachment_id, filename or name, blob)
        else:
            raise errors.form_error(
                f"data.attachments.{position}", "ATTACHMENT_NOT_FOUND", "Attachment has no uploaded_filename or file"
            )
    return out


def _check_component(world: World, ctx: Ctx, body: JSON) -> None:
    message_id = str(body.get("message_id", ""))
    record = world.find_message(message_id)
    if record is None or record.deleted or record.channel_id != ctx.channel.id:
        raise errors.unknown_message()
    if record.ephemeral_user is not None:
        flags = body.get("message_flags")
        if record.ephemeral_user != ctx.account.user_id or not isinstance(flags, int) or not flags & C.FLAG_EPHEMERAL:
            raise errors.unknown_message()
    if str(record.data.get("author", {}).get("id")) != ctx.app.id:
        raise errors.form_error(
            "application_id", "INTERACTION_APPLICATION_MISMATCH", "Message is not from this application"
        )
    data = ctx.data
    custom_id = data.get("custom_id")
    component_type = data.get("component_type")
    if not isinstance(custom_id, str) or custom_id not in record.custom_ids():
        raise errors.form_error("data.custom_id", "COMPONENT_CUSTOM_ID_INVALID", "Unknown component custom_id")
    component = _find_component(record.data, custom_id)
    if component is None or component_type != component.get("type"):
        raise errors.form_error("data.component_type", "COMPONENT_TYPE_INVALID", "Component type does not match")
    if component_type == 3:
        values = data.get("values")
        allowed = {o["value"] for o in component.get("options", [])}
        if not isinstance(values, list) or not values or any(v not in allowed for v in values):
            raise errors.form_error("data.values", "COMPONENT_VALUES_INVALID", "Invalid select menu values")
    ctx.message = record
    ctx.origin.interacted_message_id = record.id
    ctx.name = custom_id


def _check_modal_submit(modals: OpenModals, ctx: Ctx) -> None:
    modals.expire()
    modal = modals.get(str(ctx.data.get("id", "")))
    if modal is None or modal.account is not ctx.account:
        raise errors.unknown_interaction()
    if ctx.data.get("custom_id") != modal.custom_id:
        raise errors.form_error("data.custom_id", "MODAL_CUSTOM_ID_INVALID", "custom_id does not match the modal")
    values: dict[str, str] = {}
    rows = ctx.data.get("components")
    if not isinstance(rows, list):
        raise errors.form_error("data.components", "BASE_TYPE_REQUIRED", "This field is required")
    for row in rows:
        for component in (row or {}).get("components", []) if isinstance(row, dict) else []:
            if isinstance(component, dict) and isinstance(component.get("custom_id"), str):
                values[component["custom_id"]] = str(component.get("value") or "")
    for required in modal.inputs:
        if not values.get(required, "").strip():
            raise errors.form_error("data.components", "MODAL_FIELD_REQUIRED", f"{required} is required")
    modals.pop(modal.id, None)  # a modal is submitted once; a refused submit leaves it open
    ctx.modal = modal
    ctx.values = values
    ctx.message = modal.message
    ctx.name = modal.custom_id
    ctx.origin.triggering = modal.origin
    ctx.origin.interacted_message_id = modal.message.id if modal.message else None


def _find_component(message: JSON, custom_id: str) -> JSON | None:
    for row in message.get("components", []):
        for component in row.get("components", []):
            if component.get("custom_id") == custom_id:
                return component  # type: ignore[no-any-return]
    return None


def _check_options(
    given: Any, schema: list[JSON], attachments: dict[str, ResolvedAttachment], path: str = "data.options"
) -> tuple[list[str], JSON]:
    """Check options against the command schema; returns (sub-command path, leaf values)."""
    if not isinstance(given, list):
        raise errors.form_error(path, "BASE_TYPE_LIST", "Must be a list.")
    by_name = {o["name"]: o for o in schema}
    leaves: JSON = {}
    for position, option in enumerate(given):
        where = f"{path}.{position}"
        if not isinstance(option, dict) or option.get("name") not in by_name:
            raise errors.form_error(where, "APPLICATION_COMMAND_OPTION_UNKNOWN", "Unknown option")
        spec = by_name[option["name"]]
        if option.get("type", spec["type"]) != spec["type"]:
            raise errors.form_error(where + ".type", "APPLICATION_COMMAND_OPTION_TYPE_INVALID", "Invalid option type")
        if spec["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            sub_path, sub_leaves = _check_options(
                option.get("options") or [], spec.get("options", []), attachments, where + ".options"
            )
            return [spec["name"], *sub_path], sub_leaves
        value = option.get("value")
        if spec["type"] == STRING:
            if not isinstance(value, str) or len(value) > 6000:
                raise errors.form_error(
                    where + ".value", "BASE_TYPE_STRING", "Must be a string of at most 6000 characters."
                )
            choices = spec.get("choices")
            if choices and value not in {c["value"] for c in choices}:
                raise errors.form_error(where + ".value", "BASE_TYPE_CHOICES", "Value is not a valid choice.")
        elif spec["type"] == INTEGER and (not isinstance(value, int) or isinstance(value, bool)):
            raise errors.form_error(where + ".value", "NUMBER_TYPE_COERCE", f"Value {value!r} is not int.")
        elif spec["type"] == BOOLEAN and not isinstance(value, bool):
            raise errors.form_error(where + ".value", "BASE_TYPE_BOOLEAN", "Must be either true or false.")
        elif spec["type"] == ATTACHMENT and str(value) not in attachments:
            raise errors.form_error(where + ".value", "ATTACHMENT_NOT_FOUND", "Unknown attachment")
        leaves[spec["name"]] = value
    if not any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in schema):
        for spec in schema:
            if spec.get("required") and spec["name"] not in leaves:
                raise errors.form_error(path, "BASE_TYPE_REQUIRED", f"Option {spec['name']} is required")
    elif schema and not given:
        raise errors.form_error(path, "BASE_TYPE_REQUIRED", "A sub-command is required")
    return [], leaves
