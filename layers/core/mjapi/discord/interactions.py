"""Interaction payloads (``POST /interactions``) as the Discord web client sends them. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mjapi.discord.commands import CommandRef
from mjapi.discord.rest import Upload

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
MODAL_SUBMIT = 5

OPTION_STRING = 3
OPTION_ATTACHMENT = 11
BUTTON = 2


def command(
    *,
    ref: CommandRef,
    guild_id: str | None,
    channel_id: str,
    session_id: str,
    nonce: str,
    options: Sequence[dict[str, Any]] = (),
    uploads: Sequence[Upload] = (),
) -> dict[str, Any]:
    """A slash command. ``guild_id`` is null for DM channels."""
    attachments = [
        {"id": str(n), "filename": u.filename, "uploaded_filename": u.uploaded_filename} for n, u in enumerate(uploads)
    ]
    return {
        "type": APPLICATION_COMMAND,
        "application_id": ref.application_id,
        "guild_id": guild_id,
        "channel_id": channel_id,
        "session_id": session_id,
        "nonce": nonce,
        "analytics_location": "slash_ui",
        "data": {
            "version": ref.version,
            "id": ref.id,
            "name": ref.name,
            "type": 1,
            "options": list(options),
            "application_command": ref.raw,
            "attachments": attachments,
        },
    }


def string_option(name: str, value: str) -> dict[str, Any]:
    return {"type": OPTION_STRING, "name": name, "value": value}


def attachment_option(name: str, index: int) -> dict[str, Any]:
    return {"type": OPTION_ATTACHMENT, "name": name, "value": index}


def subcommand(name: str, options: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """``/prefer remix`` style: the subcommand is an option of type 1."""
    return {"type": 1, "name": name, "options": list(options)}


def button(
    *,
    application_id: str,
    guild_id: str | None,
    channel_id: str,
    message_id: str,
    message_flags: int,
    custom_id: str,
    session_id: str,
    nonce: str,
) -> dict[str, Any]:
    """A button click. ``message_flags`` must be the target message's flags (64 for ephemeral messages)."""
    return {
        "type": MESSAGE_COMPONENT,
        "nonce": nonce,
        "guild_id": guild_id,
        "channel_id": channel_id,
        "message_flags": message_flags,
        "message_id": message_id,
        "application_id": application_id,
        "session_id": session_id,
        "data": {"component_type": BUTTON, "custom_id": custom_id},
    }


def modal_submit(
    *,
    application_id: str,
    guild_id: str | None,
    channel_id: str,
    session_id: str,
    nonce: str,
    modal_id: str,
    modal_custom_id: str,
    fields: dict[str, str],
) -> dict[str, Any]:
    """Submit a modal opened by a button; ``modal_id`` is the id from INTERACTION_MODAL_CREATE / SUCCESS.

    Modal events only reach the gateway session whose id was sent, so ``session_id`` must be the live one."""
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": cid, "value": value}]} for cid, value in fields.items()]
    return {
        "type": MODAL_SUBMIT,
        "application_id": application_id,
        "channel_id": channel_id,
        "guild_id": guild_id,
        "session_id": session_id,
        "nonce": nonce,
        "data": {"id": modal_id, "custom_id": modal_custom_id, "components": rows},
    }
