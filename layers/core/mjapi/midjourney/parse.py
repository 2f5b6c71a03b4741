"""``python -m mjapi.midjourney.parse FILE|-``: print the event(s) of a captured Discord message or gateway dispatch.

Input: one JSON object (a message, or a dispatch ``{"op":0,"t":...,"s":...,"d":...}``) or an array of them.
Output: the event as indented JSON (an array for an array input). Exit 2 with a message on stderr when the input
cannot be read or is not JSON objects. This is the tool to reach for when the bot changes its format.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from mjapi.midjourney.models import EVENT_ADAPTER
from mjapi.midjourney.parser import parse_payload


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    with open(source, encoding="utf-8") as handle:
        return handle.read()


def _dump(payload: object) -> Any:
    return EVENT_ADAPTER.dump_python(parse_payload(payload), mode="json")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mjapi.midjourney.parse",
        description="Parse one Discord message or gateway dispatch (JSON) into Midjourney events.",
    )
    parser.add_argument("source", metavar="FILE|-", help="JSON file to read, or - for stdin")
    parser.add_argument("--compact", action="store_true", help="one line of JSON instead of indented output")
    args = parser.parse_args(argv)
    try:
        text = _read(args.source)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.source}: {exc}", file=sys.stderr)
        return 2
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        print(f"error: {args.source} is not valid JSON: {exc}", file=sys.stderr)
        return 2
    if isinstance(data, dict):
        output: Any = _dump(data)
    elif isinstance(data, list) and all(isinstance(item, dict) for item in data):
        output = [_dump(item) for item in data]
    else:
        print(f"error: {args.source} must hold a JSON object (or an array of objects)", file=sys.stderr)
        return 2
    print(json.dumps(output, ensure_ascii=False, indent=None if args.compact else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
