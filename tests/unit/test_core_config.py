"""Settings: validated once, with errors that name the variable; titles; ids."""

from __future__ import annotations

import pytest

from parley.config import ApiSettings, AuthSettings, ConfigurationError, load
from parley.ids import new_ulid, now_iso, seconds_to_utc_midnight
from parley.titles import title_from

BASE = {
    "AWS_REGION": "eu-west-1",
    "CHAT_TABLE_NAME": "chat",
    "COGNITO_USER_POOL_ID": "eu-west-1_Abc",
    "COGNITO_CLIENT_ID": "client",
    "CONNECTIONS_TABLE_NAME": "connections",
    "WS_MANAGEMENT_ENDPOINT": "https://ws.example.com/prod",
}


def test_valid_environment() -> None:
    settings = load(ApiSettings, {**BASE, "MODEL_BASE_URL": "", "DAILY_TOKEN_QUOTA": "500"})
    assert settings.daily_token_quota == 500
    assert settings.model_base_url is None  # empty means unset
    assert settings.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc"
    assert settings.jwks_url == f"{settings.issuer}/.well-known/jwks.json"
    local = load(AuthSettings, {**BASE, "COGNITO_JWKS_URL": "http://127.0.0.1:5000/p/jwks"})
    assert local.jwks_url == "http://127.0.0.1:5000/p/jwks"
    assert local.issuer.startswith("https://cognito-idp.eu-west-1.amazonaws.com/")


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"CHAT_TABLE_NAME": None}, "CHAT_TABLE_NAME: Field required"),
        ({"CHAT_TABLE_NAME": ""}, "CHAT_TABLE_NAME: String should have at least 1 character"),
        ({"DAILY_TOKEN_QUOTA": "-1"}, "DAILY_TOKEN_QUOTA"),
        ({"DAILY_TOKEN_QUOTA": "lots"}, "DAILY_TOKEN_QUOTA"),
        ({"MODEL_PROVIDER": "gpt"}, "MODEL_PROVIDER"),
        ({"MODEL_TIMEOUT_SECONDS": "0"}, "MODEL_TIMEOUT_SECONDS"),
    ],
)
def test_errors_name_the_variable(change: dict[str, str | None], named: str) -> None:
    env = {**BASE, **change}
    environ = {k: v for k, v in env.items() if v is not None}
    with pytest.raises(ConfigurationError) as error:
        load(ApiSettings, environ)
    assert named in str(error.value)
    assert str(error.value).startswith("Invalid configuration: ")


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("Plan a **weekend** in Paris", "Plan a weekend in Paris"),
        ("  hello\n\nworld  ", "hello world"),
        ("```\n\n```", "New conversation"),
        ("word " * 40, "word word word word word word word word word word word…"),
        ("x" * 300, "x" * 59 + "…"),
    ],
)
def test_titles_are_short_and_clean(text: str, title: str) -> None:
    assert title_from(text) == title
    assert len(title_from(text)) <= 60


def test_ids_and_times() -> None:
    ids = [new_ulid() for _ in range(500)]
    assert ids == sorted(ids)
    assert len(set(ids)) == 500
    assert all(len(i) == 26 and i.isalnum() and i.isupper() for i in ids)
    stamp = now_iso()
    assert stamp.endswith("Z")
    assert len(stamp) == 24
    assert 0 < seconds_to_utc_midnight() <= 86_401
