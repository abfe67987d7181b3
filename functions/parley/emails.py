"""The e-mails Cognito sends, in Parley's words: the custom-message trigger's one rule.

`functions/custom_message` answers each `CustomMessage_*` event with a subject and a body that
name the app and link to it: a sign-up (or resent) verification code, a password reset code,
an operator's invitation with a temporary password, and the code that verifies a changed
address. Cognito takes one body (`emailMessage`) and sends it as HTML, so the body is HTML whose
every interpolated value is escaped (a person's name is theirs to choose); the same words as
plain text go in `smsMessage` (the pool sends no SMS: it is the text form, kept beside it).

Cognito fills the placeholders itself: the code (`{####}`, the event's `codeParameter`) and,
in an invitation, the username (`{username}`, `usernameParameter`). Both stay exactly as the
event gives them, or Cognito refuses the message. An event of any other source (a sign-in code
by SMS or e-mail, which the pool does not use) is answered unchanged: Cognito's default.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any, Literal

Kind = Literal["verification", "reset", "invitation", "attribute"]

KINDS: dict[str, Kind] = {
    "CustomMessage_SignUp": "verification",
    "CustomMessage_ResendCode": "verification",
    "CustomMessage_ForgotPassword": "reset",
    "CustomMessage_AdminCreateUser": "invitation",
    "CustomMessage_UpdateUserAttribute": "attribute",
    "CustomMessage_VerifyUserAttribute": "attribute",
}
"""The trigger sources answered, by the message they send."""
CODE = "{####}"
USERNAME = "{username}"
NAME_LIMIT = 80
"""A greeting uses at most this much of a person's name."""


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str


def _greeting(name: str | None) -> str:
    cleaned = " ".join((name or "").split())[:NAME_LIMIT]
    return f"Hello {cleaned}," if cleaned else "Hello,"


def compose(
    kind: Kind,
    app_name: str,
    app_url: str,
    *,
    name: str | None = None,
    code: str = CODE,
    username: str = USERNAME,
) -> Email:
    """The e-mail of `kind`; `code` and `username` are Cognito's placeholders, kept verbatim."""
    if kind == "verification":
        subject = f"Your {app_name} verification code"
        lines = [
            f"Thanks for signing up to {app_name}. Your verification code is {code}.",
            "Enter it on the sign-up page to finish creating your account. It works for 24 hours.",
        ]
    elif kind == "reset":
        subject = f"Reset your {app_name} password"
        lines = [
            f"Your code to reset your {app_name} password is {code}.",
            "It works for one hour. If you did not ask to reset your password, ignore this "
            "e-mail: your password stays as it is.",
        ]
    elif kind == "invitation":
        subject = f"You are invited to {app_name}"
        lines = [
            f"You have an account on {app_name}. Your username is {username} "
            f"and your temporary password is {code}.",
            "Sign in with them within 3 days; you will choose your own password then.",
        ]
    else:
        subject = f"Confirm your new e-mail address for {app_name}"
        lines = [
            f"Your code to confirm this e-mail address for {app_name} is {code}.",
            "Enter it in the app. If you did not change your address, ignore this e-mail.",
        ]
    greeting = _greeting(name)
    link = f"Open {app_name}: {app_url}"
    text = "\n\n".join([greeting, *lines, link])
    # The placeholders survive escaping unchanged ({, #, } are not special in HTML).
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in [greeting, *lines])
    html = (
        '<!DOCTYPE html><html><body style="font-family:sans-serif;line-height:1.5">'
        f"{paragraphs}"
        f'<p><a href="{escape(app_url, quote=True)}">Open {escape(app_name)}</a></p>'
        "</body></html>"
    )
    return Email(subject=subject, text=text, html=html)


def custom_message(event: dict[str, Any], app_name: str, app_url: str) -> dict[str, Any]:
    """The custom-message event with its response filled in (unchanged for other sources)."""
    kind = KINDS.get(str(event.get("triggerSource", "")))
    if kind is None:
        return event
    request = event.get("request") or {}
    attributes = request.get("userAttributes") or {}
    email = compose(
        kind,
        app_name,
        app_url,
        name=attributes.get("name") if isinstance(attributes.get("name"), str) else None,
        code=str(request.get("codeParameter") or CODE),
        username=str(request.get("usernameParameter") or USERNAME),
    )
    response = dict(event.get("response") or {})
    response.update(emailSubject=email.subject, emailMessage=email.html, smsMessage=email.text)
    return {**event, "response": response}
