"""Cognito's post-confirmation trigger for the local pool: the event it sends.

moto confirms users but runs no Lambda triggers (that needs Docker). Like Cognito, the stack
runs `post_confirmation` synchronously inside ConfirmSignUp / AdminConfirmSignUp, once per user
(moto's process calls the gateway's Lambda endpoint: `tasks.local.aws.hook_post_confirmation`),
so the profile exists before the new user's first request. Users an admin gives a permanent
password (the demo user, test users) get it the same way inside AdminSetUserPassword, so every
local user has a profile. The handler is idempotent, as it must be for Cognito's own retries.
"""

from __future__ import annotations

from typing import Any


def confirmation_event(
    pool_id: str, client_id: str, region: str, user: dict[str, Any]
) -> dict[str, Any]:
    """The PostConfirmation event Cognito sends for one user of ListUsers/AdminGetUser."""
    attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
    attributes["cognito:user_status"] = "CONFIRMED"
    return {
        "version": "1",
        "region": region,
        "userPoolId": pool_id,
        "userName": user["Username"],
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client_id},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {"userAttributes": attributes},
        "response": {},
    }
