"""The local stack's mailbox and codes, and what its saved state keeps (tasks.local)."""

from __future__ import annotations

import io
import pickle
import threading
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest
from moto.cognitoidp.exceptions import CodeMismatchException, ExpiredCodeException

from tasks.local.cognito_mail import Codes, Mailbox, temporary_password
from tasks.local.snapshot import _Pickler


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _user(email: str = "ana@example.com") -> Any:
    return SimpleNamespace(attribute_lookup={"email": email})


def _pool() -> Any:
    return SimpleNamespace(extended_config={})


def test_a_code_is_mailed_and_works_once() -> None:
    mailbox, clock = Mailbox(), Clock()
    codes, user = Codes(mailbox, clock), _user()
    code = codes.issue(_pool(), user, "verify")
    [message] = mailbox.messages("ANA@example.com ")
    assert (message.kind, message.code, message.to) == ("verification", code, "ana@example.com")
    assert message.body == f"Your verification code is {code}."
    codes.consume(user, "verify", f" {code} ")
    with pytest.raises(CodeMismatchException):
        codes.consume(user, "verify", code)


def test_a_wrong_code_is_refused_and_the_right_one_still_works() -> None:
    codes, user = Codes(Mailbox(), Clock()), _user()
    code = codes.issue(_pool(), user, "verify")
    for wrong in ("", f"{(int(code) + 1) % 1_000_000:06d}", code[:-1], code + "0"):
        with pytest.raises(CodeMismatchException):
            codes.consume(user, "verify", wrong)
    codes.consume(user, "verify", code)


def test_a_code_expires_and_purposes_do_not_mix() -> None:
    clock = Clock()
    codes, user = Codes(Mailbox(), clock), _user()
    verify = codes.issue(_pool(), user, "verify")
    reset = codes.issue(_pool(), user, "reset")
    if verify != reset:  # one purpose's code never passes for the other's
        with pytest.raises(CodeMismatchException):
            codes.consume(user, "reset", verify)
    clock.now += 3600 + 1  # a reset code lives an hour, a sign-up code a day
    with pytest.raises(ExpiredCodeException):
        codes.consume(user, "reset", reset)
    codes.consume(user, "verify", verify)
    clock.now += 24 * 3600
    again = codes.issue(_pool(), user, "verify")
    clock.now += 24 * 3600 + 1
    with pytest.raises(ExpiredCodeException):
        codes.consume(user, "verify", again)


def test_a_new_code_replaces_the_last() -> None:
    codes, user = Codes(Mailbox(), Clock()), _user()
    first = codes.issue(_pool(), user, "verify")
    second = codes.issue(_pool(), user, "verify")
    if first != second:
        with pytest.raises(CodeMismatchException):
            codes.consume(user, "verify", first)
    codes.consume(user, "verify", second)


def test_concurrent_uses_of_one_code_let_exactly_one_through() -> None:
    codes, user = Codes(Mailbox(), Clock()), _user()
    code = codes.issue(_pool(), user, "verify")
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def use() -> None:
        start.wait()
        try:
            codes.consume(user, "verify", code)
            outcomes.append("used")
        except CodeMismatchException:
            outcomes.append("refused")

    threads = [threading.Thread(target=use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == ["refused"] * 7 + ["used"]


def test_the_pool_s_template_is_used() -> None:
    mailbox = Mailbox()
    pool = SimpleNamespace(
        extended_config={
            "VerificationMessageTemplate": {
                "EmailSubject": "Welcome to Parley",
                "EmailMessage": "Your Parley code: {####}",
            }
        }
    )
    code = Codes(mailbox).issue(pool, _user(), "verify")
    [message] = mailbox.messages()
    assert (message.subject, message.body) == ("Welcome to Parley", f"Your Parley code: {code}")


def test_a_temporary_password_meets_the_policy() -> None:
    for length in (12, 20):
        password = temporary_password(length)
        assert len(password) >= length
        assert any(c.isupper() for c in password)
        assert any(c.islower() for c in password)
        assert any(c.isdigit() for c in password)
        assert "!" in password


def test_the_mailbox_pickles_with_its_messages() -> None:
    mailbox = Mailbox()
    mailbox.deliver("a@example.com", "verification", "s", "b", "123456")
    mailbox.deliver("b@example.com", "invitation", "s", "b", "Pass-word-1!")
    restored = pickle.loads(pickle.dumps(mailbox))  # noqa: S301 - made here
    assert [m.to for m in restored.messages()] == ["b@example.com", "a@example.com"]
    restored.deliver("c@example.com", "reset", "s", "b", "654321")  # its lock works
    assert len(restored.messages()) == 3


class _Parameters(defaultdict[str, list[str]]):
    """Shaped like moto's ssm.ParameterDict: a defaultdict whose __init__ takes other arguments."""

    def __init__(self, account_id: str, region_name: str) -> None:
        super().__init__(list)
        self.account_id = account_id
        self.region_name = region_name


def _roundtrip(value: Any) -> Any:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return pickle.loads(buffer.getvalue())  # noqa: S301 - made here


def test_the_state_keeps_what_plain_pickle_cannot() -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tags: defaultdict[str, defaultdict[str, dict[str, str]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    tags["res"]["k"]["v"] = "1"
    parameters = _Parameters("123", "us-east-1")
    parameters["/p"].append("value")
    lock = threading.Lock()
    with pytest.raises((pickle.PicklingError, TypeError, AttributeError)):
        pickle.dumps((key, tags, parameters, lock))

    key2, tags2, parameters2, lock2 = _roundtrip((key, tags, parameters, lock))
    assert key2.private_numbers() == key.private_numbers()
    assert tags2["res"]["k"] == {"v": "1"}
    assert tags2["new"]["x"] == {}  # still a defaultdict of the same shape
    assert type(parameters2) is _Parameters
    assert (parameters2.account_id, parameters2["/p"], parameters2["/q"]) == ("123", ["value"], [])
    assert lock2.acquire(blocking=False)
