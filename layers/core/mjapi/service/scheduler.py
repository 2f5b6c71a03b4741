"""Choosing an account for a job. Pure: the authoritative check is the conditional slot reservation."""

from __future__ import annotations

import random
from collections.abc import Sequence

from mjapi.models import Account, Bot, Mode


def rank_accounts(
    accounts: Sequence[Account],
    *,
    bot: Bot,
    mode: Mode | None,
    rng: random.Random | None = None,
) -> list[Account]:
    """Usable accounts of ``bot`` (and ``mode`` if asked) with a free slot, most free slots first.

    Ties are shuffled so that concurrent requests spread over equally loaded accounts instead of racing for one (with
    the module's generator by default: a new ``random.Random()`` reads the OS's entropy, a millisecond per request).
    """
    eligible = [
        a for a in accounts if a.usable and a.serves(bot) and (mode is None or a.mode == mode) and a.free_slots > 0
    ]
    (rng.shuffle if rng is not None else random.shuffle)(eligible)
    return sorted(eligible, key=lambda a: -a.free_slots)


def has_candidates(accounts: Sequence[Account], *, bot: Bot, mode: Mode | None) -> bool:
    """Whether any enabled account could ever serve this bot/mode (healthy or not): otherwise queuing is pointless."""
    return any(a.enabled and a.serves(bot) and (mode is None or a.mode == mode) for a in accounts)
