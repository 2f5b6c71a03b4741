"""Interaction payloads (``POST /interactions``) as the Discord web client sends them. Pure functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mjapi.discord.commands import CommandRef
from mjapi.discord.rest import Upload

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
MODAL_SUBMIT = 5
MESSAGE_COMMAND = 3  # application command type of a message command (``data.type``)

OPTION_SUB_COMMAND = 1
OPTION_STRING = 3
OPTION_ATTACHMENT = 11
BUTTON = 2
TEXT_INPUT = 4


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


def message_command(
    *,
    ref: CommandRef,
    guild_id: str | None,
    channel_id: str,
    session_id: str,
    nonce: str,
    target_id: str,
) -> dict[str, Any]:
    """A message command (Apps menu of a message, e.g. Midjourney's "Cancel Job"): an application command of type 3
    that names its target message instead of taking options."""
    payload = command(ref=ref, guild_id=guild_id, channel_id=channel_id, session_id=session_id, nonce=nonce)
    payload["data"].update({"type": MESSAGE_COMMAND, "target_id": target_id})
    return payload


def string_option(name: str, value: str) -> dict[str, Any]:
    return {"type": OPTION_STRING, "name": name, "value": value}


def subcommand_option(name: str) -> dict[str, Any]:
    """``/prefer remix`` is the command ``prefer`` with the sub-command ``remix`` (ET ``PreferPayload``)."""
    return {"type": OPTION_SUB_COMMAND, "name": name, "options": []}


def attachment_option(name: str, index: int) -> dict[str, Any]:
    return {"type": OPTION_ATTACHMENT, "name": name, "value": index}


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
    custom_id: str,
    text_input_id: str,
    value: str,
) -> dict[str, Any]:
    """A modal submit (TA ``remix.json``/``zoom.json``): ``modal_id`` is the id of the INTERACTION_MODAL_CREATE that
    opened it, and only the session that clicked receives that event, so ``session_id`` must be the relay's."""
    return {
        "type": MODAL_SUBMIT,
        "application_id": application_id,
        "channel_id": channel_id,
        "guild_id": guild_id,
        "session_id": session_id,
        "nonce": nonce,
        "data": {
            "id": modal_id,
            "custom_id": custom_id,
            "components": [
                {"type": 1, "components": [{"type": TEXT_INPUT, "custom_id": text_input_id, "value": value}]}
            ],
        },
    }
