"""Who may sign up (`parley.signup`, the pre-sign-up trigger): open by default; limited to
e-mail domains, to invited addresses (a room owner's invitation, read from the table), or both;
the same for a federated first sign-in; an operator's own users always."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import boto3
import pytest

from parley.signup import SignUpRefused, SignUpRule, normalise_email, parse_domains
from parley.store.invites import INVITE_DAYS, InviteRepository, invite_pk
from tests.support.environment import clear_parley_caches
from tests.support.events import LambdaContext
from tests.unit.conftest import fresh_id

SIGN_UP = "PreSignUp_SignUp"
EXTERNAL = "PreSignUp_ExternalProvider"
ADMIN = "PreSignUp_AdminCreateUser"


def nobody(email: str) -> bool:
    return False


def everybody(email: str) -> bool:
    return True


def refused(
    rule: SignUpRule,
    email: str | None,
    source: str = SIGN_UP,
    invited: Callable[[str], bool] = nobody,
) -> str:
    with pytest.raises(SignUpRefused) as caught:
        rule.check(source, email, invited)
    return str(caught.value)


@pytest.fixture
def invites(chat_table_name: str) -> InviteRepository:
    return InviteRepository(boto3.resource("dynamodb").Table(chat_table_name))


def test_sign_up_is_open_by_default() -> None:
    rule = SignUpRule()
    assert rule.open
    for source in (SIGN_UP, EXTERNAL, ADMIN):
        rule.check(source, "anyone@anywhere.example", nobody)
    rule.check(SIGN_UP, None, nobody)  # open: nothing is asked of the address


def test_domains_admit_their_addresses_in_any_case_and_refuse_others() -> None:
    rule = SignUpRule(parse_domains(" Example.com, @corp.example ,"))
    assert rule.allowed_domains == {"example.com", "corp.example"}
    assert not rule.open
    rule.check(SIGN_UP, "Ann@EXAMPLE.com ", nobody)
    rule.check(SIGN_UP, "bob@corp.example", nobody)
    message = refused(rule, "eve@evil.example")
    assert message == "Sign-up is open only to addresses at corp.example, example.com"
    # A subdomain, a look-alike and a domain in the local part are other domains.
    for email in ("a@eu.example.com", "a@example.com.evil", "a@notexample.com",
                  "example.com@evil.example", "a@example.co"):  # fmt: skip
        refused(rule, email)


def test_an_address_with_more_than_one_at_sign_is_no_address() -> None:
    """`evil@evil.example@example.com` is not an address at example.com."""
    rule = SignUpRule(frozenset({"example.com"}), invites=True)
    for email in ("evil@evil.example@example.com", "a@@example.com", "a b@example.com"):
        message = refused(rule, email, invited=everybody)
        assert message.startswith("Sign-up needs an e-mail address")


def test_empty_domain_entries_are_ignored() -> None:
    assert parse_domains("") == frozenset()
    assert parse_domains(" @ , ,@@") == frozenset()
    assert parse_domains("XX.example,@Y.example") == {"xx.example", "y.example"}


def test_domains_do_not_ask_for_invitations() -> None:
    asked: list[str] = []
    rule = SignUpRule(frozenset({"example.com"}))
    refused(rule, "eve@evil.example", invited=lambda e: asked.append(e) or True)
    assert asked == []


def test_an_invited_address_is_admitted_and_others_refused() -> None:
    rule = SignUpRule(invites=True)
    asked: list[str] = []

    def invited(email: str) -> bool:
        asked.append(email)
        return email == "ann@example.com"

    rule.check(SIGN_UP, " Ann@Example.COM", invited)
    assert asked == ["ann@example.com"]  # looked up as stored: trimmed, lower-case
    message = refused(rule, "eve@example.com", invited=invited)
    assert message == "Sign-up is by invitation only: ask a room owner to invite this address"


def test_domains_and_invitations_each_admit() -> None:
    rule = SignUpRule(frozenset({"example.com"}), invites=True)
    rule.check(SIGN_UP, "staff@example.com", nobody)
    rule.check(SIGN_UP, "guest@elsewhere.example", everybody)
    message = refused(rule, "eve@elsewhere.example")
    assert message == (
        "Sign-up is open to addresses at example.com and to invited addresses: "
        "ask a room owner to invite this address"
    )


def test_a_federated_first_sign_in_follows_the_same_rule() -> None:
    rule = SignUpRule(frozenset({"example.com"}), invites=True)
    rule.check(EXTERNAL, "staff@example.com", nobody)
    rule.check(EXTERNAL, "guest@elsewhere.example", everybody)
    refused(rule, "eve@elsewhere.example", EXTERNAL)
    # A provider that shares no address (or a malformed one) cannot pass a restriction.
    for email in (None, "", "   ", "no-at-sign", "@example.com", "ann@"):
        message = refused(rule, email, EXTERNAL, invited=everybody)
        assert message.startswith("Sign-up needs an e-mail address")


def test_an_operators_users_are_always_accepted() -> None:
    SignUpRule(frozenset({"example.com"}), invites=True).check(ADMIN, "x@elsewhere.example", nobody)
    SignUpRule(invites=True).check(ADMIN, None, nobody)


def test_normalise_email() -> None:
    assert normalise_email("  Ann@Example.COM ") == "ann@example.com"
    assert normalise_email(None) == ""


def test_invitations_are_found_in_any_case_and_end(invites: InviteRepository) -> None:
    email = f"{fresh_id('guest-')}@Example.com"
    assert not invites.is_invited(email)
    invites.put(email, "owner-1", "conv-1")
    assert invites.is_invited(email.upper())
    assert invites.is_invited(f"  {email.lower()} ")
    item = invites.table.get_item(Key={"pk": invite_pk(email), "sk": "INVITE"})["Item"]
    assert item["pk"] == f"INVITE#{email.lower()}"
    assert (item["invited_by"], item["conversation_id"]) == ("owner-1", "conv-1")
    assert item["created_at"].startswith(time.strftime("%Y-%m-%d", time.gmtime()))
    ends = int(item["purge_at"])
    assert INVITE_DAYS == 30
    assert abs(ends - (time.time() + 30 * 86400)) < 5
    # Past its end (TTL deletes lag) an invitation admits nobody.
    assert invites.is_invited(email, now=ends - 1)
    assert not invites.is_invited(email, now=ends)
    assert not invites.is_invited(email, now=ends + 1)


@pytest.fixture
def pre_sign_up(
    chat_table_name: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[pytest.MonkeyPatch]:
    from pre_sign_up import app

    monkeypatch.setenv("CHAT_TABLE_NAME", chat_table_name)
    monkeypatch.setenv("SIGNUP_ALLOWED_DOMAINS", "example.com")
    monkeypatch.setenv("SIGNUP_INVITES", "true")
    clear_parley_caches()
    app.rule.cache_clear()
    app.invites.cache_clear()
    yield monkeypatch
    clear_parley_caches()
    app.rule.cache_clear()
    app.invites.cache_clear()


def sign_up_event(email: str | None, source: str = SIGN_UP) -> dict[str, object]:
    attributes = {} if email is None else {"email": email}
    return {
        "version": "1",
        "triggerSource": source,
        "region": "us-east-1",
        "userPoolId": "us-east-1_pool",
        "userName": "someone",
        "callerContext": {"awsSdkVersion": "x", "clientId": "client"},
        "request": {"userAttributes": attributes, "validationData": None},
        "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False},
    }


def test_the_trigger_refuses_by_raising_and_returns_an_accepted_event_unchanged(
    pre_sign_up: pytest.MonkeyPatch, invites: InviteRepository
) -> None:
    from pre_sign_up.app import handler

    staff = sign_up_event("staff@example.com")
    assert handler(staff, LambdaContext("pre_sign_up")) == staff
    guest = f"{fresh_id('guest-')}@elsewhere.example"
    with pytest.raises(SignUpRefused, match="invited addresses"):
        handler(sign_up_event(guest), LambdaContext("pre_sign_up"))
    with pytest.raises(SignUpRefused):
        handler(sign_up_event(guest, EXTERNAL), LambdaContext("pre_sign_up"))
    invites.put(guest.upper(), "owner-1", "conv-1")
    for source in (SIGN_UP, EXTERNAL):
        event = sign_up_event(guest, source)
        assert handler(event, LambdaContext("pre_sign_up")) == event


def test_the_trigger_is_open_when_nothing_is_set(pre_sign_up: pytest.MonkeyPatch) -> None:
    from pre_sign_up import app

    pre_sign_up.setenv("SIGNUP_ALLOWED_DOMAINS", "")
    pre_sign_up.setenv("SIGNUP_INVITES", "")
    clear_parley_caches()
    app.rule.cache_clear()
    event = sign_up_event("anyone@anywhere.example")
    assert app.handler(event, LambdaContext("pre_sign_up")) == event
