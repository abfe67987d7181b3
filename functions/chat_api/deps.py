"""What routes depend on: the caller's identity and profile, settings, store, provider."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Request
from aws_lambda_powertools.event_handler.depends import Depends

from parley.auth import Identity, bearer_token, get_verifier
from parley.bots import Provider, get_provider
from parley.config import ApiSettings, get_settings
from parley.gate import account_gate
from parley.models import Profile
from parley.profiles import profile_of
from parley.store import Store, get_store


def settings() -> ApiSettings:
    return get_settings(ApiSettings)


def store() -> Store:
    return get_store()


def provider() -> Provider:
    return get_provider(get_settings(ApiSettings))


def authenticate(headers: dict[str, str]) -> Identity:
    """The caller, verified here even behind the gateway's JWT authorizer (defence in depth:
    a route deployed without the authorizer still rejects every bad token); a disabled
    account is refused like a bad token (`parley.gate`)."""
    who = get_verifier().verify(bearer_token(headers.get("authorization")))
    account_gate().check(who.sub)
    return who


def identity(request: Request) -> Identity:
    """The identity `chat_api.app` verified before validation, else verified now."""
    verified = request.context.get("identity")
    if isinstance(verified, Identity):
        return verified
    return authenticate(request.headers)


def current_profile(who: Annotated[Identity, Depends(identity)]) -> Profile:
    return profile_of(get_store(), who.sub, who.email, who.name)


CurrentUser = Annotated[Identity, Depends(identity)]
CurrentProfile = Annotated[Profile, Depends(current_profile)]
