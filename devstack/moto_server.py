"""``python -m devstack.moto_server``: the local AWS (moto) in its own process.

Prints ``{"endpoint": ...}`` once listening, and exits when its parent closes stdin (so it never outlives the stack,
even when the parent is killed) or on SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading

from devstack.aws_local import make_moto_server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = make_moto_server(args.host, args.port)
    host, port = server.server_address[:2]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_parent() -> None:
        sys.stdin.read()  # returns at EOF: the parent closed the pipe or died
        stop.set()

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    threading.Thread(target=server.serve_forever, name="moto-server", daemon=True).start()
    print(json.dumps({"endpoint": f"http://{host!s}:{port}"}), flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    main()
