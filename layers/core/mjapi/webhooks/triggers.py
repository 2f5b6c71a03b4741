"""Which job writes are worth a webhook: a status change (including the job's creation) or a higher progress."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from mjapi.models import Job
from mjapi.store import keys
from mjapi.store.jobs import to_job

logger = logging.getLogger(__name__)


class Trigger(StrEnum):
    STATUS = "status"
    PROGRESS = "progress"


def as_job(item: Mapping[str, Any] | None) -> Job | None:
    """The job in a change image, or None for any other item (references, accounts, deliveries...) and for a job
    item that does not parse (logged: retrying it would block the feed behind it forever)."""
    if not item or item.get("sk") != keys.JOB_SK or not str(item.get("pk", "")).startswith(keys.job_pk("")):
        return None
    try:
        return to_job(item)
    except (ValidationError, ValueError):
        logger.error("unreadable job item %s in the change feed", item.get("pk"))
        return None


def trigger_for(old: Job | None, new: Job) -> Trigger | None:
    if old is None or old.status != new.status:
        return Trigger.STATUS
    if new.progress > old.progress and new.is_active:
        return Trigger.PROGRESS
    return None
