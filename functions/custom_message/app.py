"""Cognito CustomMessage trigger: verification, reset, invitation and address-change e-mails.

The words, the escaping and the placeholders are `parley.emails`; the app's name and URL come
from the environment (APP_NAME, APP_URL). Reads nothing else.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from parley.config import EmailSettings, get_settings
from parley.emails import custom_message
from parley.observability import lambda_handler


@lambda_handler(trace=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = get_settings(EmailSettings)
    return custom_message(event, settings.app_name, settings.app_url)
