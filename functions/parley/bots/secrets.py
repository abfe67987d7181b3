"""Secrets from SSM Parameter Store through Powertools Parameters; never logged.

A value is kept for `SECRET_MAX_AGE_SECONDS`, so a rotated key reaches running containers
within that time without a parameter read per request. The provider (and its cache) belongs
to the cold start, like every other client of the core.
"""

from __future__ import annotations

from functools import cache

import boto3
from aws_lambda_powertools.utilities.parameters import SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from parley.errors import ServiceUnavailable

SECRET_MAX_AGE_SECONDS = 300


@cache
def parameters(region: str) -> SSMProvider:
    """The cold start's Parameter Store reader (its cache keeps values `SECRET_MAX_AGE_SECONDS`)."""
    return SSMProvider(boto3_client=boto3.client("ssm", region_name=region))


def ssm_secret(name: str, region: str, *, max_age: int | None = None) -> str:
    """The decrypted value of a SecureString parameter, read at most once per `max_age` seconds."""
    try:
        value = parameters(region).get(
            name,
            decrypt=True,
            max_age=SECRET_MAX_AGE_SECONDS if max_age is None else max_age,
        )
    except GetParameterError as exc:
        raise ServiceUnavailable("The assistant is not configured correctly") from exc
    if not isinstance(value, str) or not value:
        raise ServiceUnavailable("The assistant is not configured correctly")
    return value
