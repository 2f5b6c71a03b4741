"""The body of a webhook: the job as its API face shows it (``fetch``'s Task JSON for ``/mj``, else ``job``)."""

from __future__ import annotations

import json
from typing import Any

from mjapi.api.proxy_views import task_view
from mjapi.api.views import job_view
from mjapi.models import Job


def view_for(job: Job) -> dict[str, Any]:
    return task_view(job) if job.api == "mj" else job_view(job)


def body_for(job: Job) -> str:
    """Compact JSON text; the bytes sent (and signed) are its UTF-8 encoding."""
    return json.dumps(view_for(job), separators=(",", ":"), ensure_ascii=False)
