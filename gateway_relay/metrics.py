"""What the relay tells CloudWatch about the account pool: counts per liveness state, as Embedded Metric Format.

The relay prints one EMF document to stdout per interval; the awslogs driver ships it to CloudWatch Logs, which turns
it into metrics (no PutMetricData call, no extra IAM). The template alarms on ``DisconnectedAccounts``.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_lambda_powertools.metrics import Metrics, MetricUnit

from mjapi.models import Account, Health

DISCONNECTED = "DisconnectedAccounts"


def account_gauges(accounts: Sequence[Account], now: int) -> dict[str, int]:
    """Enabled accounts by state at ``now`` (epoch ms): connected, disconnected (no live relay session, or the relay
    reported the gateway down) and unhealthy (captcha, ban, subscription, bad token: an operator must act)."""
    enabled = [a for a in accounts if a.enabled]
    states = [a.live_health_at(now) for a in enabled]
    return {
        "EnabledAccounts": len(enabled),
        "ConnectedAccounts": sum(1 for a in enabled if a.connected_at(now)),
        DISCONNECTED: sum(1 for s in states if s == Health.DISCONNECTED),
        "UnhealthyAccounts": sum(1 for s in states if s not in (Health.OK, Health.DISCONNECTED)),
    }


def publish(gauges: dict[str, int], *, namespace: str) -> None:
    """Print the gauges as one EMF document (dimension ``service``: ``POWERTOOLS_SERVICE_NAME``)."""
    metrics = Metrics(namespace=namespace)
    for name, value in gauges.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.flush_metrics()
