"""What a request (or a dispatcher run) needs: the table, the job store, secrets and the submitter."""

from __future__ import annotations

from dataclasses import dataclass, field

from mjapi.secrets import SecretBundle, get_secrets
from mjapi.service.submitter import Submitter
from mjapi.settings import Settings, get_settings
from mjapi.store.jobs import JobStore
from mjapi.store.table import Table


@dataclass
class Context:
    settings: Settings
    table: Table
    jobs: JobStore
    secrets: SecretBundle
    submitter: Submitter = field(default_factory=Submitter)

    @classmethod
    def current(cls, submitter: Submitter | None = None) -> Context:
        settings = get_settings()
        table = Table(settings.table_name)
        return cls(
            settings=settings,
            table=table,
            jobs=JobStore(table),
            secrets=get_secrets(),
            submitter=submitter or Submitter(),
        )
