"""The e-mails Cognito sends (`parley.emails`, the custom-message trigger): each kind names the
app and links to it, keeps Cognito's placeholders, and escapes what a person chose (their name)
in the HTML body."""

from __future__ import annotations

from typing import Any

import pytest

from parley.emails import CODE, KINDS, USERNAME, compose, custom_message
from tests.support.environment import clear_parley_caches
from tests.support.events import LambdaContext

APP = "Parley"
URL = "https://chat.example.com"
HOSTILE = '<script>alert("x")</script> & <b>Bob</b>'


def message_event(source: str, name: str | None = "Ann", **request: Any) -> dict[str, Any]:
    attributes: dict[str, str] = {"sub": "s", "email": "ann@example.com"}
    if name is not None:
        attributes["name"] = name
    return {
        "version": "1",
        "triggerSource": source,
        "region": "us-east-1",
        "userPoolId": "us-east-1_pool",
        "userName": "s",
        "callerContext": {"awsSdkVersion": "x", "clientId": "client"},
        "request": {
            "userAttributes": attributes,
            "codeParameter": CODE,
            "linkParameter": "{##Click Here##}",
            "usernameParameter": None,
            **request,
        },
        "response": {"smsMessage": None, "emailMessage": None, "emailSubject": None},
    }


EXPECTED_SUBJECTS = {
    "CustomMessage_SignUp": "Your Parley verification code",
    "CustomMessage_ResendCode": "Your Parley verification code",
    "CustomMessage_ForgotPassword": "Reset your Parley password",
    "CustomMessage_AdminCreateUser": "You are invited to Parley",
    "CustomMessage_UpdateUserAttribute": "Confirm your new e-mail address for Parley",
    "CustomMessage_VerifyUserAttribute": "Confirm your new e-mail address for Parley",
}


@pytest.mark.parametrize("source", sorted(KINDS))
def test_each_message_names_and_links_the_app_and_keeps_the_code(source: str) -> None:
    extra = {"usernameParameter": USERNAME} if source == "CustomMessage_AdminCreateUser" else {}
    answer = custom_message(message_event(source, **extra), APP, URL)["response"]
    assert answer["emailSubject"] == EXPECTED_SUBJECTS[source]
    html, text = answer["emailMessage"], answer["smsMessage"]
    assert html.count(CODE) == 1
    assert text.count(CODE) == 1
    assert f'<a href="{URL}">Open Parley</a>' in html
    assert html.startswith("<!DOCTYPE html><html>")
    assert html.endswith("</body></html>")
    assert f"Open Parley: {URL}" in text
    assert "<" not in text
    assert "<p>Hello Ann,</p>" in html
    assert text.startswith("Hello Ann,")
    if source == "CustomMessage_AdminCreateUser":
        assert USERNAME in html
        assert USERNAME in text
    else:
        assert USERNAME not in html


def test_the_verification_words() -> None:
    email = compose("verification", APP, URL, name=None)
    assert email.text == (
        "Hello,\n\nThanks for signing up to Parley. Your verification code is {####}.\n\n"
        "Enter it on the sign-up page to finish creating your account. It works for 24 hours."
        "\n\nOpen Parley: https://chat.example.com"
    )


@pytest.mark.parametrize("source", sorted(KINDS))
def test_a_persons_name_is_escaped_in_the_html(source: str) -> None:
    html = custom_message(message_event(source, name=HOSTILE), APP, URL)["response"]["emailMessage"]
    assert "<script>" not in html
    assert "<b>" not in html
    assert (
        "<p>Hello &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
        "&lt;b&gt;Bob&lt;/b&gt;,</p>"
    ) in html


def test_the_app_url_and_name_are_escaped_too() -> None:
    html = compose("reset", 'P&"Q', 'https://x.example/"><script>').html
    assert 'href="https://x.example/&quot;&gt;&lt;script&gt;"' in html
    assert "Open P&amp;&quot;Q</a>" in html
    assert "<script>" not in html


def test_a_long_or_spaced_name_is_tidied() -> None:
    email = compose("verification", APP, URL, name="  Ann \n\t Lee  " + "x" * 200)
    assert email.text.startswith("Hello Ann Lee xxx")
    assert len(email.text.split(",", 1)[0]) == len("Hello ") + 80


def test_the_code_placeholder_is_cognitos() -> None:
    """Whatever placeholder the event names is the one kept (Cognito fills it)."""
    event = message_event("CustomMessage_SignUp", codeParameter="{####}")
    assert "{####}" in custom_message(event, APP, URL)["response"]["emailMessage"]


@pytest.mark.parametrize(
    "source", ["CustomMessage_Authentication", "CustomMessage_Unknown", "", "PreSignUp_SignUp"]
)
def test_other_sources_are_left_to_cognito(source: str) -> None:
    event = message_event(source)
    assert custom_message(event, APP, URL) == event


def test_the_trigger_reads_the_app_from_its_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from custom_message.app import handler

    monkeypatch.setenv("APP_URL", "https://app.example.org")
    monkeypatch.setenv("APP_NAME", "Acme Chat")
    clear_parley_caches()
    try:
        event = message_event("CustomMessage_ForgotPassword")
        answer = handler(event, LambdaContext("custom_message"))
        assert answer["response"]["emailSubject"] == "Reset your Acme Chat password"
        assert (
            '<a href="https://app.example.org">Open Acme Chat</a>'
            in answer["response"]["emailMessage"]
        )
        assert answer["request"] == event["request"]
    finally:
        clear_parley_caches()
