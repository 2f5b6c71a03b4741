"""The change feed, behind a tiny interface: what a write did to one item, in feed order.

DynamoDB Streams (the ``notifier`` Lambda in AWS, a poller over moto's stream offline) is one implementation; a store
whose change feed is a table of its own can be another. Either way :func:`mjapi.webhooks.service.process_changes`
gets the same :class:`Change` values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mjapi.store.codec import from_item


@dataclass(frozen=True)
class Change:
    """One write: ``sequence`` is a decimal string that increases along the feed for any one item; ``old``/``new`` are
    the item before and after (plain values, as ``Table.get`` returns them; None for an insert / a removal)."""

    sequence: str
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None


class ChangeFeed(Protocol):
    def read(self, limit: int = 100) -> list[Change]:
        """The next changes (possibly none); each is returned once, in order per item."""
        ...


def change_from_images(
    sequence: str, old_image: Mapping[str, Any] | None, new_image: Mapping[str, Any] | None
) -> Change:
    """A change from DynamoDB's typed images (``{"S": ...}``), as stream records and ``get_records`` carry them."""
    return Change(
        sequence=sequence,
        old=from_item(old_image) if old_image else None,
        new=from_item(new_image) if new_image else None,
    )
