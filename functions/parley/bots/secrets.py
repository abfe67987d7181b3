"""Secrets from SSM Parameter Store, read once per cold start and never logged."""

from __future__ import annotations

from functools import cache

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from parley.errors import ServiceUnavailable


@cache
def ssm_secret(name: str, region: str) -> str:
    """The decrypted value of a SecureString parameter."""
    try:
        response = boto3.client("ssm", region_name=region).get_parameter(
            Name=name, WithDecryption=True
        )
    except (ClientError, BotoCoreError) as exc:
        raise ServiceUnavailable("The assistant is not configured correctly") from exc
    value = response["Parameter"].get("Value")
    if not value:
        raise ServiceUnavailable("The assistant is not configured correctly")
    return value
