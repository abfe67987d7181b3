"""Who may create an account: the rule of the pre-sign-up trigger (`functions/pre_sign_up`).

An environment leaves sign-up open (the default), or limits it to addresses at some e-mail
domains, to invited addresses (a room owner's invitation, `parley.store.invites`), or to
either. The same rule holds for a federated first sign-in (`PreSignUp_ExternalProvider`): an
identity provider's user needs an allowed address too. Users an operator creates
(`PreSignUp_AdminCreateUser`) are the operator's own invitations and always accepted.

A refusal is a `SignUpRefused` whose message is shown to the person signing up (Cognito answers
`UserLambdaValidationException: PreSignUp failed with error <message>.`), so it says what to do
and never whether anyone else has an account.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

ADMIN_CREATE_USER = "PreSignUp_AdminCreateUser"
ADDRESS = re.compile(r"[^@\s]+@([^@\s]+)")
"""One `@` between a local part and a domain, no spaces: anything else is no address (a domain
is never read from `evil@evil.example@example.com`)."""


class SignUpRefused(Exception):
    """The address may not sign up in this environment; the message is for the person."""


def normalise_email(email: str | None) -> str:
    """An address as compared: trimmed and lower-case ("" for none)."""
    return (email or "").strip().lower()


def parse_domains(value: str) -> frozenset[str]:
    """`SIGNUP_ALLOWED_DOMAINS` ("example.com, Example.org") as lower-case domains."""
    return frozenset(filter(None, (d.strip().lower().lstrip("@") for d in value.split(","))))


@dataclass(frozen=True)
class SignUpRule:
    allowed_domains: frozenset[str] = frozenset()
    """Addresses at exactly these domains may sign up (a subdomain is another domain)."""
    invites: bool = False
    """Addresses with a room owner's invitation may sign up."""

    @property
    def open(self) -> bool:
        return not self.allowed_domains and not self.invites

    def check(
        self, trigger_source: str, email: str | None, is_invited: Callable[[str], bool]
    ) -> None:
        """Raise SignUpRefused unless `email` may sign up; `is_invited` is asked only when the
        address is not already allowed by its domain."""
        if self.open or trigger_source == ADMIN_CREATE_USER:
            return
        address = normalise_email(email)
        match = ADDRESS.fullmatch(address)
        if match is None:
            raise SignUpRefused("Sign-up needs an e-mail address")
        if match[1] in self.allowed_domains:
            return
        if self.invites and is_invited(address):
            return
        raise SignUpRefused(self._refusal())

    def _refusal(self) -> str:
        domains = ", ".join(sorted(self.allowed_domains))
        if self.allowed_domains and self.invites:
            return (
                f"Sign-up is open to addresses at {domains} and to invited addresses: "
                "ask a room owner to invite this address"
            )
        if self.allowed_domains:
            return f"Sign-up is open only to addresses at {domains}"
        return "Sign-up is by invitation only: ask a room owner to invite this address"
