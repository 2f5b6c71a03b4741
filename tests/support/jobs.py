"""Jobs as the API leaves them, for tests that start at the relay: submitted on an account, nonce sent, slot held."""

from __future__ import annotations

from mjapi.clock import now_ms
from mjapi.ids import new_job_id
from mjapi.models import Job, JobKind, JobStatus
from mjapi.store.jobs import JobStore

#: The channel of the recorded fixtures (tests/fixtures/dispatches).
FIXTURE_CHANNEL = "1069126859100524575"
FIXTURE_PROMPT = "glass frog on a lily pad, macro photography --ar 2:3 --v 6.0"


def submitted_imagine(jobs: JobStore, nonce: str, *, account_id: str = "a1", channel_id: str = FIXTURE_CHANNEL) -> Job:
    """An imagine job whose interaction was sent with ``nonce`` (uncharged: no token), stored with its slot."""
    now = now_ms()
    job = Job(
        id=new_job_id(),
        kind=JobKind.IMAGINE,
        status=JobStatus.SUBMITTED,
        prompt=FIXTURE_PROMPT,
        account_id=account_id,
        channel_id=channel_id,
        nonce=nonce,
        holds_slot=True,
        created_at=now,
        submitted_at=now,
    )
    jobs.create_running(job, charge=False, mode=None)
    return job
