"""Identifiers of the Midjourney and Niji applications (protocol notes §1.2: ET ``config.ts`` MJBot/NijiBot, TA)."""

from __future__ import annotations

from typing import Final, Literal

MIDJOURNEY_APPLICATION_ID: Final = "936929561302675456"
NIJI_APPLICATION_ID: Final = "1022952195194359889"

#: The bots post as users whose id is their application id.
DEFAULT_BOT_IDS: Final = frozenset({MIDJOURNEY_APPLICATION_ID, NIJI_APPLICATION_ID})


def bot_kind(application_or_author_id: str | None) -> Literal["mj", "niji"] | None:
    """``mj`` / ``niji`` for the two known application ids, ``None`` for anything else."""
    if application_or_author_id == MIDJOURNEY_APPLICATION_ID:
        return "mj"
    if application_or_author_id == NIJI_APPLICATION_ID:
        return "niji"
    return None


#: Discord message flag: ephemeral (only the invoking user sees it).
EPHEMERAL_FLAG: Final = 64
#: Discord message flag: a deferred reply still loading ("… is thinking"); cleared when the bot edits in the answer.
LOADING_FLAG: Final = 128
