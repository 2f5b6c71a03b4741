"""The SQLite table's change feed: its ``changes`` table read in order, as one
:class:`mjapi.webhooks.changes.ChangeFeed` (the same interface the DynamoDB stream reader of the offline stack offers).

Each consumer (``name``) keeps its position in the database, so a restarted stack carries on where it stopped instead
of handing every change of the last day over again. The position saved is that of the batch *before* the one being
handed out: a batch counts as done once its consumer comes back for more, and a crash in between hands the last batch
over again (replays are harmless: a delivery already recorded is skipped).
"""

from __future__ import annotations

import json

from mjapi.settings import get_settings
from mjapi.store.backends.sqlite_table import database_path, open_database
from mjapi.webhooks.changes import Change


class SqliteChangeFeed:
    def __init__(self, table_name: str | None = None, *, name: str = "notifier") -> None:
        self._db = open_database(database_path(table_name or get_settings().table_name))
        self.name = name
        row = self._db.read_one("SELECT seq FROM feed_positions WHERE name = ?", (name,))
        self._done = int(row[0]) if row else 0  # acknowledged: everything up to here was processed
        self._handed = self._done  # handed out: the last batch ends here

    def read(self, limit: int = 100) -> list[Change]:
        if self._handed != self._done:
            position = (self.name, self._handed)
            self._db.write(
                lambda tx: tx.execute(
                    "INSERT INTO feed_positions (name, seq) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET seq = excluded.seq",
                    position,
                )
            )
            self._done = self._handed
        rows = self._db.read(
            "SELECT seq, old, new FROM changes WHERE seq > ? ORDER BY seq LIMIT ?", (self._handed, limit)
        )
        if rows:
            self._handed = int(rows[-1][0])
        return [
            Change(
                sequence=str(seq),
                old=json.loads(old) if old is not None else None,
                new=json.loads(new) if new is not None else None,
            )
            for seq, old, new in rows
        ]
