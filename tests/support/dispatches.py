"""Realistic gateway dispatches for tests, built from the recorded fixtures with chosen ids."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "dispatches"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def message(
    name: str,
    *,
    message_id: str,
    channel_id: str,
    nonce: str | None = None,
    interaction_id: str | None = None,
    content: str | None = None,
    reference: str | None = None,
    cdn: str | None = None,
    user_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """A MESSAGE_* dispatch from fixture ``name`` with its correlation keys replaced."""
    frame = copy.deepcopy(fixture(name))
    d = frame["d"]
    d["id"] = message_id
    d["channel_id"] = channel_id
    if nonce is None:
        d.pop("nonce", None)
    else:
        d["nonce"] = nonce
    for key in ("interaction", "interaction_metadata"):
        if key in d and isinstance(d[key], dict):
            if interaction_id is None:
                d.pop(key)
            else:
                d[key]["id"] = interaction_id
                if user_id:
                    d[key].get("user", {})["id"] = user_id
    if content is not None:
        d["content"] = content
    if reference is None:
        d.pop("message_reference", None)
        d.pop("referenced_message", None)
    else:
        d["message_reference"] = {"message_id": reference, "channel_id": channel_id}
    if cdn:
        for att in d.get("attachments", []):
            att["url"] = f"{cdn}/attachments/{channel_id}/{message_id}/{att['filename']}?ex=1&is=1&hm=ab"
            att["proxy_url"] = att["url"]
    return frame["t"], d


def interaction(kind: str, *, interaction_id: str, nonce: str) -> tuple[str, dict[str, Any]]:
    return kind, {"id": interaction_id, "nonce": nonce}
