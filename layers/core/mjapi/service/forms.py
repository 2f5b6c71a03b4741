"""Filling in the forms the bot opens for a job (remix and pan prompts, custom zoom, the Vary Region editor)."""

from __future__ import annotations

import logging

from mjapi.ids import new_nonce
from mjapi.images import load_object
from mjapi.models import ACTIVE_STATUSES, ErrorInfo, Job, JobStatus
from mjapi.service.context import Context
from mjapi.service.submitter import FormInput, SubmitFailure
from mjapi.store.accounts import get_account
from mjapi.store.table import ConditionFailed
from mjapi.tracking.applier import FormReply

logger = logging.getLogger(__name__)


def send_form(ctx: Context, reply: FormReply) -> Job | None:
    """Submit ``reply`` for its job as the job's account. The submission gets a nonce of its own (the bot echoes it on
    the job's first message), remembered like the job's first one. A failure fails the job and refunds it."""
    job = ctx.jobs.get(reply.job_id)
    if job is None or job.is_terminal or not job.account_id:
        return job
    account = get_account(ctx.table, job.account_id)
    config = ctx.secrets.account(job.account_id)
    try:
        if account is None or config is None:
            raise SubmitFailure("account_unconfigured", "The account that opened the form is no longer configured.")
        mask_key = str(job.options.get("mask_key") or "")
        form = FormInput(
            editor=reply.editor,
            custom_id=reply.custom_id,
            value=reply.value,
            interaction_id=reply.interaction_id,
            text_input_id=reply.text_input_id,
            application_id=reply.application_id,
            mask=load_object(mask_key) if reply.editor and mask_key else None,
        )
        nonce = new_nonce()
        ctx.jobs.put_ref("nonce", nonce, job.id)
        job = ctx.jobs.update_fields(job.id, {"nonce": nonce}, allowed=ACTIVE_STATUSES)
        ctx.submitter.send_form(job, account, config, form)
    except ConditionFailed:
        return ctx.jobs.get(reply.job_id)  # finished meanwhile (cancelled, timed out): nothing to fill in
    except SubmitFailure as failure:
        logger.warning("job %s: form not submitted: %s", job.id, failure.code)
        error = ErrorInfo(code=failure.code, message=failure.message)
        return ctx.jobs.finish(job, JobStatus.FAILED, {"error": error.model_dump()}, refund=True) or job
    except Exception as exc:
        logger.exception("job %s: unexpected error while submitting a form", job.id)
        error = ErrorInfo(code="submit_error", message=f"The form could not be sent to Discord ({type(exc).__name__}).")
        return ctx.jobs.finish(job, JobStatus.FAILED, {"error": error.model_dump()}, refund=True) or job
    return job
