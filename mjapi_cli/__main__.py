"""``python -m mjapi_cli`` runs the same app as the ``mjapi`` console script."""

from __future__ import annotations

from mjapi_cli.app import main

if __name__ == "__main__":
    main()
