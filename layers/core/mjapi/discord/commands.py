"""Where a bot's slash commands are, and at which version: looked up, cached, refreshed when Discord says stale.

Midjourney re-registers its commands from time to time; a hard-coded version then fails with 50035 INVALID_VERSION
(the most reported breakage of peer projects), so versions are always fetched from the command index.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from mjapi.discord.rest import DiscordError, DiscordRest


@dataclass(frozen=True)
class CommandRef:
    id: str
    version: str
    name: str
    application_id: str
    raw: dict[str, Any]


class CommandNotFound(LookupError):
    """``application_absent``: the application has no command at all here (its bot is not in the channel)."""

    def __init__(self, message: str, *, application_absent: bool = False) -> None:
        super().__init__(message)
        self.application_absent = application_absent


class CommandCatalog:
    """Process-wide cache of command refs keyed by (application, guild or channel)."""

    def __init__(self, ttl_seconds: float = 3600.0) -> None:
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], tuple[float, dict[str, CommandRef]]] = {}
        self._fetching: dict[tuple[str, str], threading.Lock] = {}

    def get(
        self,
        rest: DiscordRest,
        *,
        application_id: str,
        name: str,
        guild_id: str | None,
        channel_id: str,
        refresh: bool = False,
    ) -> CommandRef:
        scope = (application_id, guild_id or f"channel:{channel_id}")
        asked_at = time.monotonic()
        with self._lock:
            entry = self._entries.get(scope)
            fetching = self._fetching.setdefault(scope, threading.Lock())
        if refresh or entry is None or asked_at - entry[0] > self._ttl:
            # One fetch per scope at a time: a burst of first requests (a cold container, a restarted relay) asks
            # Discord's command index once, not once per request (each fetch counts against the account's limits).
            with fetching:
                with self._lock:
                    entry = self._entries.get(scope)
                if entry is None or entry[0] < asked_at - self._ttl or (refresh and entry[0] < asked_at):
                    commands = self._fetch(
                        rest, application_id=application_id, guild_id=guild_id, channel_id=channel_id, name=name
                    )
                    entry = (time.monotonic(), commands)
                    with self._lock:
                        self._entries[scope] = entry
        ref = entry[1].get(name)
        if ref is None:
            raise CommandNotFound(
                f"/{name} is not available for application {application_id} here", application_absent=not entry[1]
            )
        return ref

    @staticmethod
    def _fetch(
        rest: DiscordRest, *, application_id: str, guild_id: str | None, channel_id: str, name: str
    ) -> dict[str, CommandRef]:
        try:
            commands = rest.command_index(guild_id=guild_id, channel_id=channel_id)
        except DiscordError as exc:
            if exc.status not in (404, 405):
                raise
            commands = rest.search_command(channel_id, name, application_id)
        out: dict[str, CommandRef] = {}
        for cmd in commands:
            if str(cmd.get("application_id")) != application_id or "name" not in cmd:
                continue
            ref = CommandRef(
                id=str(cmd["id"]),
                version=str(cmd["version"]),
                name=str(cmd["name"]),
                application_id=application_id,
                raw=cmd,
            )
            out.setdefault(ref.name, ref)
        return out


CATALOG = CommandCatalog()
