"""Scheduled Lambda: submit queued jobs onto free account slots, fail jobs stuck past their deadline, and attempt the
webhook deliveries whose backoff is over (the durable retry schedule of mjapi.webhooks)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from mjapi.service.context import Context
from mjapi.service.jobs import dispatch_queued, reap
from mjapi.webhooks.service import drain_due

logger = Logger(service="mjapi-dispatcher")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    ctx = Context.current()
    reaped = reap(ctx)
    sent = dispatch_queued(ctx)
    try:
        retried = drain_due(ctx)
    except Exception:  # webhooks never hold up the jobs: the next run takes the due deliveries
        logger.exception("webhook retries failed")
        retried = 0
    logger.info("dispatcher run", extra={"reaped": reaped, "sent": sent, "webhooks": retried})
    return {"reaped": reaped, "sent": sent, "webhooks": retried}
