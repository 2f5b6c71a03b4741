"""API Lambda: every HTTP route goes through one Powertools resolver (see mjapi.api)."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

# Importing the handler allocates a few hundred thousand objects that live as long as the container: the collector
# scanning them while they are made costs a cold start ~150 ms for nothing, and scanning them again in each full
# collection afterwards costs warm requests their p99. So no collection during the import, then the lot frozen
# (never scanned again).
gc.disable()
try:
    from mjapi.api.resolver import build_resolver, logger

    app = build_resolver()
finally:
    gc.freeze()
    gc.enable()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
