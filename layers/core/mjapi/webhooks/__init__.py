"""Signed webhooks (``notifyHook``): the job JSON POSTed on every status change and on progress, at least once.

How it flows (docs/DATA.md, "Webhook deliveries"):

1. The table's change feed (DynamoDB Streams -> the ``notifier`` Lambda; offline, ``devstack.change_feed`` polling
   moto's stream) hands every job write to :func:`mjapi.webhooks.service.process_changes`.
2. A write that changed the status, or raised the progress, becomes a *delivery* item (keyed by the change's sequence
   number, so a replayed record is a no-op) in one transaction with the job's hook state, which coalesces progress (at
   most one per ``MJAPI_WEBHOOK_PROGRESS_INTERVAL_SECONDS``) and refuses anything after the terminal delivery.
3. The delivery is attempted at once: Ed25519-signed POST through :mod:`mjapi.net_guard`. Each attempt is recorded;
   a failure schedules the next attempt with exponential backoff in the sparse due index (gsi2 ``HOOKS#DUE``), which
   the dispatcher schedule drains (:func:`mjapi.webhooks.service.drain_due`). After the last attempt the delivery is
   dead-lettered (gsi2 ``HOOKS#DEAD``).
"""
