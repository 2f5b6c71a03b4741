"""``python -m gateway_relay``: hold one Discord gateway session per configured account until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from gateway_relay.relay import Relay


async def _main() -> None:
    relay = Relay()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, relay.request_stop)
    await relay.run()


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("POWERTOOLS_LOG_LEVEL", "INFO"),
        format='{"time":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","message":"%(message)s"}',
    )
    asyncio.run(_main())


if __name__ == "__main__":
    main()
