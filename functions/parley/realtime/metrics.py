"""The real-time metrics (CloudWatch EMF through Powertools), named once here.

Handlers flush them with ``@metrics.log_metrics``; the namespace comes from
``POWERTOOLS_METRICS_NAMESPACE`` (``Parley``) and the service from ``POWERTOOLS_SERVICE_NAME``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import MetricUnit

from parley.observability import metrics

if TYPE_CHECKING:
    from parley.realtime.fanout import BroadcastResult


def record_broadcast(result: BroadcastResult) -> None:
    """Fan-out size and time, stale connections removed, failed posts."""
    metrics.add_metric(name="FanoutSize", unit=MetricUnit.Count, value=result.recipients)
    metrics.add_metric(
        name="FanoutDuration", unit=MetricUnit.Milliseconds, value=result.duration_ms
    )
    if result.stale:
        metrics.add_metric(
            name="StaleConnectionsRemoved", unit=MetricUnit.Count, value=len(result.stale)
        )
    if result.failed:
        metrics.add_metric(name="FanoutFailures", unit=MetricUnit.Count, value=result.failed)


def record_reply(
    *,
    status: str,
    ttft_ms: float | None,
    input_tokens: int,
    output_tokens: int,
    frames: int,
) -> None:
    """One assistant reply (over either transport): how it ended, time to first token, tokens
    in/out, delta frames sent."""
    metrics.add_metric(name="Replies", unit=MetricUnit.Count, value=1)
    if status == "stopped":
        metrics.add_metric(name="RepliesStopped", unit=MetricUnit.Count, value=1)
    elif status == "failed":
        metrics.add_metric(name="RepliesFailed", unit=MetricUnit.Count, value=1)
    if ttft_ms is not None:
        metrics.add_metric(name="BotTimeToFirstToken", unit=MetricUnit.Milliseconds, value=ttft_ms)
    metrics.add_metric(name="BotInputTokens", unit=MetricUnit.Count, value=input_tokens)
    metrics.add_metric(name="BotOutputTokens", unit=MetricUnit.Count, value=output_tokens)
    metrics.add_metric(name="DeltaFramesPerReply", unit=MetricUnit.Count, value=frames)


def record_message() -> None:
    metrics.add_metric(name="MessagesSent", unit=MetricUnit.Count, value=1)
