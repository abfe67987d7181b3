"""Logs, traces and metrics: set up once here for every function.

Each handler is wrapped by `lambda_handler(...)`, which injects the Lambda context and the
correlation id into the logs, traces the invocation (never its response or error bodies:
prompts, replies and e-mail addresses must not leave the conversation through X-Ray) and
flushes the EMF metrics. The core logs through stdlib loggers under ``parley``; they are routed
into the same Powertools JSON, so every line of every function carries the correlation id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

NAMESPACE = "Parley"

logger = Logger()
"""The function's logger (service name from POWERTOOLS_SERVICE_NAME)."""
metrics = Metrics(namespace=NAMESPACE)
"""The function's metrics (every Metrics instance shares one set; flushed per invocation)."""

logging.getLogger("parley")  # the parent of every core logger: configured below, inherited by all
copy_config_to_registered_loggers(source_logger=logger, include={"parley"})

Handler = TypeVar("Handler", bound=Callable[..., Any])


@cache
def tracer() -> Tracer:
    """The X-Ray tracer, built on first use: functions that don't trace don't import its SDK."""
    return Tracer()


def lambda_handler(
    *, correlation_id_path: str | None = None, trace: bool = True
) -> Callable[[Handler], Handler]:
    """Wrap a handler with logging context, tracing (bodies never captured) and metrics."""

    def decorate(handler: Handler) -> Handler:
        wrapped: Any = metrics.log_metrics(handler)
        if trace:
            wrapped = tracer().capture_lambda_handler(
                wrapped, capture_response=False, capture_error=False
            )
        wrapped = logger.inject_lambda_context(correlation_id_path=correlation_id_path)(wrapped)
        return wrapped  # type: ignore[no-any-return]

    return decorate
