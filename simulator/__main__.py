"""`python -m simulator --host 127.0.0.1 --port 0 [--seed N] [--speed F] [--accounts N] [--tls]`.

Prints one JSON document (URLs, the TLS certificate file if any, demo account credentials) on stdout, then serves
until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys

from simulator.server import Simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m simulator", description="Offline Discord + Midjourney simulator")
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    parser.add_argument("--seed", type=int, default=0, help="seed of all randomness (default 0)")
    parser.add_argument("--speed", type=float, default=1.0, help="time factor for the bots (200 = a 60 s job in 0.3 s)")
    parser.add_argument("--accounts", type=int, default=1, help="demo accounts to create (default 1)")
    parser.add_argument("--plan", default="standard", choices=["trial", "basic", "standard", "pro", "mega"])
    parser.add_argument(
        "--render-processes",
        type=int,
        default=0,
        help="render images in N worker processes instead of threads (for heavy load)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve https/wss with a self-signed certificate generated at start (its PEM path is printed)",
    )
    parser.add_argument("--log-level", default="WARNING")
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be positive")
    if not 0 <= args.accounts <= 10000:
        parser.error("--accounts must be between 0 and 10000")
    if not 0 <= args.render_processes <= 16:
        parser.error("--render-processes must be between 0 and 16")
    if not 0 <= args.port <= 65535:
        parser.error("--port must be between 0 and 65535")
    return args


async def serve(args: argparse.Namespace) -> None:
    sim = Simulator(seed=args.seed, speed=args.speed, render_processes=args.render_processes, tls=args.tls)
    urls = await sim.start(args.host, args.port)
    accounts = [sim.add_account(f"user{i}", plan=args.plan) for i in range(args.accounts)]
    document = {
        "urls": urls.to_json(),
        "tls_cert_file": sim.tls_cert_file,
        "seed": args.seed,
        "speed": args.speed,
        "accounts": [
            {
                "name": a.username,
                "token": a.token,
                "user_id": a.user_id,
                "guild_id": a.guild_id,
                "channel_id": a.channel_id,
                "dm_channel_ids": a.dm_channel_ids,
            }
            for a in accounts
        ],
    }
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await sim.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
