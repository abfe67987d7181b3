"""Cognito's e-mail on the local stack: a mailbox, and codes that are checked.

Cognito e-mails a code at sign-up (and when asked again), a code to reset a password (forgot
password, an admin's reset) and an invitation with a temporary password (AdminCreateUser). moto
sends nothing, accepts any confirmation code and has no ResendConfirmationCode. In moto's
process `hook_cognito_mail` makes each of those calls issue a real code, keeps the message
Cognito would have sent in a `Mailbox` (shown at `/_local/mailbox` by the stack's web server) and
makes the confirmations check the code, as Cognito does:

- SignUp e-mails a 6-digit code, valid 24 hours; ResendConfirmationCode e-mails a new one (the
  old one stops working); ConfirmSignUp refuses a wrong code (CodeMismatchException), an expired
  one (ExpiredCodeException) and a user already confirmed (NotAuthorizedException).
- ForgotPassword and AdminResetUserPassword e-mail a code valid 1 hour; ConfirmForgotPassword
  refuses a wrong one and checks the new password against the pool's policy (moto does not).
- AdminCreateUser e-mails the invitation (unless `MessageAction=SUPPRESS`) with a temporary
  password Cognito would generate when none is given; `RESEND` sends it again.

Messages are the custom-message trigger's when the stack runs it (`Codes.customize`,
`tasks.local.cognito_triggers.custom_message`): its subject and HTML body, kept with the body's
text. Otherwise the pool's own templates (`VerificationMessageTemplate`,
`AdminCreateUserConfig.InviteMessageTemplate`) and Cognito's defaults. Codes live on
moto's user objects, so they are saved with the rest of moto's state (`tasks.local.snapshot`).
"""

from __future__ import annotations

import functools
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, Literal

from tasks.local.aws import Expected, check_moto

Kind = Literal["verification", "reset", "invitation"]

VERIFY_SECONDS = 24 * 3600
"""Cognito's sign-up codes are valid for 24 hours."""
RESET_SECONDS = 3600
"""Cognito's password reset codes are valid for 1 hour."""
DEFAULT_VERIFICATION = ("Your verification code", "Your verification code is {####}.")
DEFAULT_INVITATION = (
    "Your temporary password",
    "Your username is {username} and temporary password is {####}.",
)
CODES = "_parley_codes"
"""The attribute of a moto user that holds its codes: {purpose: (code, expires_at)}."""

HOOKED = (
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.sign_up",
        "(self, client_id, username, password, attributes)",
    ),
    Expected(
        "moto.cognitoidp.models", "CognitoIdpBackend.forgot_password", "(self, client_id, username)"
    ),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.admin_create_user",
        "(self, user_pool_id, username, message_action, temporary_password, attributes)",
    ),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.admin_reset_user_password",
        "(self, user_pool_id, username)",
    ),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend._validate_password",
        "(self, user_pool_id, password)",
    ),
    Expected("moto.cognitoidp.responses", "CognitoIdpResponse.confirm_sign_up", "(self)"),
    Expected("moto.cognitoidp.responses", "CognitoIdpResponse.confirm_forgot_password", "(self)"),
    Expected("moto.core.responses", "ActionResult.__init__", "(self, result)"),
)
"""What `hook_cognito_mail` wraps or calls."""


@dataclass(frozen=True)
class Message:
    """One e-mail Cognito would have sent."""

    id: str
    to: str
    kind: Kind
    subject: str
    body: str
    code: str
    """The code (or temporary password) the body carries: the one to type."""
    sent_at: str
    html: str = ""
    """The body as sent when the custom-message trigger wrote it (HTML, as Cognito sends it);
    `body` is then its text. Empty for Cognito's own plain messages."""

    def to_json(self) -> dict[str, str]:
        data = asdict(self)
        data["sentAt"] = data.pop("sent_at")
        return data


class Mailbox:
    """Every message, oldest first; safe to use from moto's request threads."""

    def __init__(self, messages: list[Message] | None = None) -> None:
        self._lock = threading.Lock()
        self._messages = list(messages or [])

    def deliver(
        self, to: str, kind: Kind, subject: str, body: str, code: str, html: str = ""
    ) -> Message:
        message = Message(
            id=uuid.uuid4().hex,
            to=to,
            kind=kind,
            subject=subject,
            body=body,
            code=code,
            sent_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            html=html,
        )
        with self._lock:
            self._messages.append(message)
        return message

    def messages(self, to: str | None = None) -> list[Message]:
        """Newest first; only those to `to` (case-insensitive) when given."""
        with self._lock:
            found = list(reversed(self._messages))
        if to:
            wanted = to.strip().lower()
            found = [m for m in found if m.to.lower() == wanted]
        return found

    def restore(self, saved: Mailbox) -> None:
        """Hold what `saved` (a mailbox from a saved state) held: the hooks keep delivering to
        this one, so a restored mailbox is never a second object the hooks do not know."""
        kept = saved.__getstate__()["messages"]
        with self._lock:
            self._messages = list(kept)

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            return {"messages": list(self._messages)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["messages"])  # type: ignore[misc]


def new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def temporary_password(minimum_length: int = 12) -> str:
    """A password that meets any Cognito policy: every kind of character, long enough."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(max(minimum_length, 12) - 4))
    kinds = (string.ascii_uppercase, string.ascii_lowercase, string.digits)
    return "".join(secrets.choice(kind) for kind in kinds) + "!" + core


def _fill(template: str, code: str, username: str = "") -> str:
    return template.replace("{####}", code).replace("{username}", username).strip()


def _verification_template(pool: Any) -> tuple[str, str]:
    config = pool.extended_config
    template = config.get("VerificationMessageTemplate") or {}
    subject = template.get("EmailSubject") or config.get("EmailVerificationSubject")
    body = template.get("EmailMessage") or config.get("EmailVerificationMessage")
    return subject or DEFAULT_VERIFICATION[0], body or DEFAULT_VERIFICATION[1]


def _invitation_template(pool: Any) -> tuple[str, str]:
    invite = (pool.extended_config.get("AdminCreateUserConfig") or {}).get(
        "InviteMessageTemplate"
    ) or {}
    return (
        invite.get("EmailSubject") or DEFAULT_INVITATION[0],
        invite.get("EmailMessage") or DEFAULT_INVITATION[1],
    )


def _email(user: Any) -> str:
    return str(user.attribute_lookup.get("email") or "")


def _delivery(user: Any) -> dict[str, str]:
    """CodeDeliveryDetails as Cognito masks them: a***@e***."""
    email = _email(user)
    local, _, domain = email.partition("@")
    return {
        "Destination": f"{local[:1]}***@{domain[:1]}***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }


class _Text(HTMLParser):
    """The words of an HTML body, paragraph by paragraph, a link followed by its address."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br", "div"):
            self.parts.append("\n")
        href = dict(attrs).get("href") if tag == "a" else None
        if href:
            self.parts.append(f" {href} ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


Customizer = Callable[[str, Any, Any], "tuple[str, str] | None"]
"""`(trigger source, pool, user) -> (subject, message template)`: the custom-message trigger's
answer (`tasks.local.cognito_triggers.custom_message`), or None for Cognito's own message."""


class Codes:
    """Issues and checks the codes kept on moto's user objects, one lock for all of them."""

    def __init__(self, mailbox: Mailbox, clock: Any = time.time) -> None:
        self.mailbox = mailbox
        self.clock = clock
        self._lock = threading.Lock()
        self.customize: Customizer | None = None
        """The custom-message trigger, when the stack runs one."""

    def send(
        self,
        source: str,
        pool: Any,
        user: Any,
        kind: Kind,
        template: tuple[str, str],
        code: str,
        username: str = "",
    ) -> None:
        """E-mail the message of `source`: the custom-message trigger's, else `template`."""
        subject, body = template
        custom = self.customize(source, pool, user) if self.customize is not None else None
        if custom is None:
            self.mailbox.deliver(_email(user), kind, subject, _fill(body, code, username), code)
            return
        html = _fill(custom[1], code, username)
        self.mailbox.deliver(_email(user), kind, custom[0] or subject, text_of(html), code, html)

    def issue(
        self,
        pool: Any,
        user: Any,
        purpose: Literal["verify", "reset"],
        source: str | None = None,
    ) -> str:
        """A new code for `purpose` (the previous one stops working), e-mailed to the user."""
        code = new_code()
        ttl = VERIFY_SECONDS if purpose == "verify" else RESET_SECONDS
        with self._lock:
            codes = user.__dict__.setdefault(CODES, {})
            codes[purpose] = (code, self.clock() + ttl)
        kind: Kind = "verification" if purpose == "verify" else "reset"
        default = "CustomMessage_SignUp" if purpose == "verify" else "CustomMessage_ForgotPassword"
        self.send(source or default, pool, user, kind, _verification_template(pool), code)
        return code

    def consume(self, user: Any, purpose: Literal["verify", "reset"], code: str) -> None:
        """Use up `code`, or raise what Cognito answers for a wrong or expired one."""
        from moto.cognitoidp.exceptions import CodeMismatchException, ExpiredCodeException

        with self._lock:
            codes = user.__dict__.get(CODES, {})
            issued = codes.get(purpose)
            if issued is None or not secrets.compare_digest(issued[0], code.strip()):
                raise CodeMismatchException("Invalid verification code provided, please try again.")
            if self.clock() > issued[1]:
                raise ExpiredCodeException("Invalid code provided, please request a code again.")
            del codes[purpose]


def _pool_of_client(response: Any, client_id: str) -> tuple[Any, Any] | None:
    """(backend, pool) that owns an app client, or None (moto then answers ResourceNotFound)."""
    backend = response._get_region_agnostic_backend()._find_backend_for_clientid(client_id)
    pool = next((p for p in backend.user_pools.values() if client_id in p.clients), None)
    return None if pool is None else (backend, pool)


def hook_cognito_mail(mailbox: Mailbox, clock: Any = time.time) -> Codes:
    """Patch moto's Cognito as the module docstring says (after checking every signature the
    patches rely on: MotoPatchError, nothing patched)."""
    check_moto(HOOKED)
    from moto.cognitoidp.exceptions import (
        InvalidParameterException,
        NotAuthorizedError,
        ResourceNotFoundError,
        UserNotFoundError,
    )
    from moto.cognitoidp.models import CognitoIdpBackend, UserStatus
    from moto.cognitoidp.responses import CognitoIdpResponse
    from moto.core.responses import ActionResult

    codes = Codes(mailbox, clock)
    original_sign_up = CognitoIdpBackend.sign_up
    original_forgot = CognitoIdpBackend.forgot_password
    original_create = CognitoIdpBackend.admin_create_user
    original_reset = CognitoIdpBackend.admin_reset_user_password
    original_confirm = CognitoIdpResponse.confirm_sign_up
    original_confirm_forgot = CognitoIdpResponse.confirm_forgot_password

    @functools.wraps(original_sign_up)
    def sign_up(backend: Any, client_id: str, username: str, password: str, attributes: Any) -> Any:
        user, details = original_sign_up(backend, client_id, username, password, attributes)
        if user.status is UserStatus.UNCONFIRMED and _email(user):
            codes.issue(
                backend.user_pools[user.user_pool_id], user, "verify", "CustomMessage_SignUp"
            )
        return user, details

    @functools.wraps(original_confirm)
    def confirm_sign_up(response: Any) -> Any:
        params = response.parameters
        found = _pool_of_client(response, str(params.get("ClientId", "")))
        user = found[1]._get_user(str(params.get("Username", ""))) if found else None
        if user is not None:
            if user.status is UserStatus.CONFIRMED:
                raise NotAuthorizedError("User cannot be confirmed. Current status is CONFIRMED")
            codes.consume(user, "verify", str(params.get("ConfirmationCode", "")))
        return original_confirm(response)

    def resend_confirmation_code(response: Any) -> Any:
        params = response.parameters
        client_id = str(params.get("ClientId", ""))
        found = _pool_of_client(response, client_id)
        if found is None:
            raise ResourceNotFoundError(client_id)
        _, pool = found
        username = str(params.get("Username", ""))
        user = pool._get_user(username)
        if user is None:
            client = pool.clients[client_id]
            if client.extended_config.get("PreventUserExistenceErrors") != "ENABLED":
                raise UserNotFoundError("Username/client id combination not found.")
            # Cognito answers as if it had sent a code, so nobody learns who has an account.
            local, _, domain = username.partition("@")
            destination = f"{local[:1]}***@{domain[:1]}***"
            delivery = {"Destination": destination, "DeliveryMedium": "EMAIL"}
            return ActionResult({"CodeDeliveryDetails": {**delivery, "AttributeName": "email"}})
        if user.status is UserStatus.CONFIRMED:
            raise InvalidParameterException("User is already confirmed.")
        codes.issue(pool, user, "verify", "CustomMessage_ResendCode")
        return ActionResult({"CodeDeliveryDetails": _delivery(user)})

    @functools.wraps(original_forgot)
    def forgot_password(backend: Any, client_id: str, username: str) -> Any:
        _, details = original_forgot(backend, client_id, username)
        pool = next(p for p in backend.user_pools.values() if client_id in p.clients)
        user = pool._get_user(username)
        if user is not None and _email(user):
            codes.issue(pool, user, "reset")
        return None, details  # no code in a response header: it is in the mailbox

    @functools.wraps(original_confirm_forgot)
    def confirm_forgot_password(response: Any) -> Any:
        params = response.parameters
        found = _pool_of_client(response, str(params.get("ClientId", "")))
        user = found[1]._get_user(str(params.get("Username", ""))) if found else None
        if found is not None and user is not None:
            backend, pool = found
            backend._validate_password(pool.id, str(params.get("Password", "")))
            codes.consume(user, "reset", str(params.get("ConfirmationCode", "")))
            if user.status is UserStatus.RESET_REQUIRED:
                user.status = UserStatus.CONFIRMED
        return original_confirm_forgot(response)

    @functools.wraps(original_reset)
    def admin_reset_user_password(backend: Any, user_pool_id: str, username: str) -> None:
        original_reset(backend, user_pool_id, username)
        user = backend.admin_get_user(user_pool_id, username)
        if _email(user):
            codes.issue(backend.user_pools[user_pool_id], user, "reset")

    @functools.wraps(original_create)
    def admin_create_user(
        backend: Any,
        user_pool_id: str,
        username: str,
        message_action: str,
        temporary_password: str,
        attributes: Any,
    ) -> Any:
        pool = backend.describe_user_pool(user_pool_id)
        policy = (pool.extended_config.get("Policies") or {}).get("PasswordPolicy") or {}
        password = temporary_password or temporary_password_for(policy)
        if message_action == "RESEND":  # moto would make a new user (a new sub) instead
            user = backend.admin_get_user(user_pool_id, username)
            if user.status is not UserStatus.FORCE_CHANGE_PASSWORD:
                raise NotAuthorizedError("User is already confirmed.")
            user.password = password
        else:
            user = original_create(
                backend, user_pool_id, username, message_action, password, attributes
            )
        if message_action != "SUPPRESS" and _email(user):
            codes.send(
                "CustomMessage_AdminCreateUser",
                pool,
                user,
                "invitation",
                _invitation_template(pool),
                password,
                _email(user),
            )
        return user

    patches: list[tuple[type, str, Any]] = [
        (CognitoIdpBackend, "sign_up", sign_up),
        (CognitoIdpBackend, "forgot_password", forgot_password),
        (CognitoIdpBackend, "admin_reset_user_password", admin_reset_user_password),
        (CognitoIdpBackend, "admin_create_user", admin_create_user),
        (CognitoIdpResponse, "confirm_sign_up", confirm_sign_up),
        (CognitoIdpResponse, "confirm_forgot_password", confirm_forgot_password),
        (CognitoIdpResponse, "resend_confirmation_code", resend_confirmation_code),  # moto has none
    ]
    for owner, name, function in patches:
        setattr(owner, name, function)
    return codes


def temporary_password_for(policy: dict[str, Any]) -> str:
    return temporary_password(int(policy.get("MinimumLength") or 12))


def read_mailbox(moto_url: str, to: str = "") -> list[dict[str, str]]:
    """The messages moto's process holds (newest first), as `/_local/mailbox.json` gives them."""
    import json
    import urllib.parse
    import urllib.request

    query = f"?{urllib.parse.urlencode({'to': to})}" if to else ""
    url = f"{moto_url.rstrip('/')}/_local/mailbox.json{query}"
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - moto on loopback
        found: list[dict[str, str]] = json.load(answer)["messages"]
    return found


def latest_code(moto_url: str, to: str, kind: Kind = "verification") -> str:
    """The code of the newest message of `kind` to `to` (AssertionError when there is none)."""
    for message in read_mailbox(moto_url, to):
        if message["kind"] == kind:
            return message["code"]
    raise AssertionError(f"no {kind} message to {to} in the local mailbox")
