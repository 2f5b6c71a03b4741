"""``python -m devstack`` (``make run``): start the offline stack and print its URLs and admin key."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from pathlib import Path

from devstack.stack import StackOptions, start_stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="API port (0 picks a free one)")
    parser.add_argument("--accounts", type=Path, help="JSON file of real Discord accounts (default: the simulator)")
    parser.add_argument("--sim-speed", type=float, default=10.0, help="simulator speed factor (jobs x times faster)")
    parser.add_argument("--sim-seed", type=int, default=0)
    parser.add_argument("--no-relay", action="store_true", help="do not start the gateway relay")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(".devstack/data"),
        help="where the store keeps tokens, jobs and images across restarts (default: .devstack/data)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="start with an empty store (deletes the earlier run's data)"
    )
    parser.add_argument(
        "--store",
        choices=("sqlite", "dynamodb"),
        default="sqlite",
        help="sqlite: the single-machine store in --data-dir (default); dynamodb: moto's DynamoDB/S3, nothing kept",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON line instead of the banner")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    stack = start_stack(
        StackOptions(
            host=args.host,
            port=args.port,
            accounts_file=args.accounts,
            sim_speed=args.sim_speed,
            sim_seed=args.sim_seed,
            relay=not args.no_relay,
            store=args.store,
            data_dir=args.data_dir,
            fresh=args.fresh,
        )
    )
    info = stack.info()
    if args.json:
        print(json.dumps(info), flush=True)
    else:
        print(_banner(info), flush=True)

    done = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    done.wait()
    stack.stop()
    return 0


def _banner(info: dict[str, object]) -> str:
    api, key = info["api"], info["admin_key"]
    accounts = info["accounts"]
    lines = [
        "mjapi offline stack is up",
        f"  API        {api}   (Swagger UI: {info['docs']})",
        f"  CDN        {info['cdn']}",
        f"  Console    {api}/console/   (sign in with a token; the admin key shows accounts and mints tokens)",
        f"  Store      {_store_line(info)}",
        f"  Simulator  {info['simulator'] or 'off (real Discord accounts)'}",
        f"  Admin key  {key}",
        f"  Accounts   {json.dumps(accounts)}",
        "",
        "Walk-through (the README's, with this stack's values):",
        f"  export API={api} ADMIN={key}",
        f"  export MJAPI_URL={api} MJAPI_ADMIN_KEY={key}   # for the mjapi CLI",
        '  export MJAPI_TOKEN=$(.venv/bin/mjapi token create --count 10 --days 1)   # then: mjapi imagine "…" --wait',
        '  TOKEN=$(curl -s -H "x-admin-key: $ADMIN" "$API/midjourney/create_token?count=10&days=1" | jq -r .token)',
        '  JOB=$(curl -s "$API/midjourney/imagine?token=$TOKEN&prompt=a+glass+frog+--ar+3:2" | jq -r .id)',
        '  curl -s "$API/midjourney/progress?token=$TOKEN&id=$JOB" | jq        # again until 100',
        '  curl -s "$API/midjourney/job?token=$TOKEN&id=$JOB" | jq',
        '  U1=$(curl -s "$API/midjourney/action?token=$TOKEN&job=$JOB&action=U1" | jq -r .action_job_id)',
        '  curl -s "$API/midjourney/job?token=$TOKEN&id=$U1" | jq ".status, .images[0].url"',
        '  curl -s -F image=@cat.png "$API/midjourney/describe?token=$TOKEN" | jq',
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def _store_line(info: dict[str, object]) -> str:
    if info.get("data_dir"):
        return f"SQLite + images in {info['data_dir']} (kept across restarts; --fresh starts empty)"
    return f"moto (DynamoDB, S3, Secrets Manager) at {info['aws_endpoint']}, nothing kept"


if __name__ == "__main__":
    sys.exit(main())
