"""Cognito's post-confirmation trigger for the local pool.

moto confirms users but runs no Lambda triggers (that needs Docker). Like Cognito, the stack
runs `post_confirmation` synchronously inside ConfirmSignUp / AdminConfirmSignUp (moto's process
calls the gateway's Lambda endpoint: `tasks.local.aws`), so the profile exists before the new
user's first request. Users an
admin creates with a permanent password are never "confirmed" in Cognito's sense; a poller runs
the same trigger for them once (the demo user, test users), so every local user has a profile.
The handler is idempotent, as it must be for Cognito's own retries.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tasks.local.gateway.lambdas import FunctionError, LambdaRuntime

log = logging.getLogger("parley.local.cognito")


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


class PostConfirmationBridge:
    """Polls the pool and runs the trigger for users confirmed since the last look."""

    def __init__(
        self,
        client: Any,
        runtime: LambdaRuntime,
        function: str,
        *,
        pool_id: str,
        client_id: str,
        region: str,
        interval: float = 1.0,
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.function = function
        self.pool_id = pool_id
        self.client_id = client_id
        self.region = region
        self.interval = interval
        self.done: set[str] = set()

    def _confirmed(self) -> list[dict[str, Any]]:
        users: list[dict[str, Any]] = []
        for page in self.client.get_paginator("list_users").paginate(UserPoolId=self.pool_id):
            users.extend(u for u in page["Users"] if u.get("UserStatus") == "CONFIRMED")
        return users

    async def trigger(self, user: dict[str, Any]) -> None:
        """Run the trigger for one user (raises FunctionError as Cognito would report it)."""
        event = confirmation_event(self.pool_id, self.client_id, self.region, user)
        await self.runtime.invoke(self.function, event)
        self.done.add(user["Username"])

    async def run_once(self) -> int:
        """Trigger for every confirmed user not yet handled; return how many ran."""
        ran = 0
        for user in await asyncio.to_thread(self._confirmed):
            if user["Username"] in self.done:
                continue
            try:
                await self.trigger(user)
            except FunctionError as exc:
                log.warning(
                    "post confirmation for %s failed (will retry): %s", user["Username"], exc
                )
                continue
            ran += 1
        return ran

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("polling the user pool failed")
            await asyncio.sleep(self.interval)
