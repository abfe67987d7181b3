"""Federated sign-in on the local stack: a stand-in for Cognito's hosted endpoints in front of a
stand-in OIDC identity provider.

moto has no hosted UI, so `HostedUi` serves what the app uses of it — `/oauth2/authorize`,
`/oauth2/token` and `/logout` — for one identity provider, `LOCAL_PROVIDER`, which is
oidc-provider-mock (a Flask app from PyPI, run by `LocalIdentityProvider`: a page where you
pick or type the user to sign in as). It is stricter than Cognito, never more permissive:

- `/oauth2/authorize` takes only the pool's web client, a `redirect_uri` equal to one of its
  callback URLs (else a 400 page, never a redirect), `response_type=code`, scopes within
  openid/email/profile with openid, PKCE with S256, and a `state` and a `nonce` (Cognito makes
  the last three optional);
- `/oauth2/token` takes each code once (a second use, even a concurrent one, is refused), within
  `CODE_TTL` seconds, from the same client with the same `redirect_uri`, and only with the
  verifier whose S256 hash is the challenge; no other grant;
- `/logout` takes only the client and one of its sign-out URLs.

After the provider signs the person in (its ID token checked: signature, issuer, audience,
nonce), the user is made in moto's pool (an e-mail address that already has a password account
is refused: Cognito would make a second user, and moto's e-mail usernames cannot) and signed in
through moto's own ADMIN_USER_PASSWORD_AUTH with a fresh random password, as a new password
challenge — so no post-confirmation trigger runs, as in Cognito, and moto mints the tokens with
its own key and claims. The ID token then gets what Cognito's hosted endpoint adds, the request's
`nonce` and `identities`, and is signed again with moto's key (the one its JWKS publishes).
SAML is not stood in for: Terraform configures it (docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import secrets
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tasks.local.cognito_triggers import EXTERNAL_PROVIDER, SOURCE_METADATA

log = logging.getLogger("parley.local.hosted_ui")

LOCAL_PROVIDER = {"name": "LocalOIDC", "label": "Local OIDC"}
"""The stand-in provider as config.json lists it (Terraform's identity_providers name and label)."""
FEDERATED_USERS = (("ana.federated@example.com", "Ana Federated"),)
"""People the stand-in provider offers with one click (any other e-mail can be typed)."""
SCOPES = frozenset({"openid", "email", "profile"})
CODE_TTL = 120.0
"""Seconds an authorization code may wait for its exchange (Cognito: 5 minutes)."""
ATTEMPT_TTL = 600.0
"""Seconds a sign-in may spend at the identity provider."""
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")


class SignInRefused(Exception):
    """The person cannot be signed in; the message goes back to the app as error_description."""


@dataclass(frozen=True)
class _Attempt:
    client_id: str
    redirect_uri: str
    state: str
    nonce: str
    challenge: str
    idp_nonce: str
    started: float


@dataclass(frozen=True)
class _Code:
    tokens: dict[str, Any]
    client_id: str
    redirect_uri: str
    challenge: str
    expires: float


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _page(status: int, title: str, detail: str) -> HTMLResponse:
    from html import escape

    return HTMLResponse(
        "<!doctype html><html lang='en'><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>{escape(title)}</title><main><h1>{escape(title)}</h1>"
        f"<p>{escape(detail)}</p></main></html>",
        status_code=status,
    )


def _moto_key() -> Any:
    """moto's signing key: the private half of the JWKS every moto pool publishes."""
    from joserfc import jwk
    from moto.utilities.utils import load_resource

    return jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


class LocalIdentityProvider:
    """oidc-provider-mock on a loopback port in a thread (require_nonce, registered clients)."""

    def __init__(self, host: str, port: int = 0) -> None:
        import oidc_provider_mock  # type: ignore[import-untyped]
        import werkzeug.serving

        users = [
            oidc_provider_mock.User(
                sub=email, claims={"email": email, "email_verified": True, "name": name}
            )
            for email, name in FEDERATED_USERS
        ]
        app = oidc_provider_mock.app(
            require_client_registration=True, require_nonce=True, user_claims=users
        )
        logging.getLogger("oidc_provider_mock").setLevel(logging.WARNING)
        self._server = werkzeug.serving.make_server(host, port, app, threaded=True)
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="local-idp", daemon=True
        )

    def start(self) -> LocalIdentityProvider:
        self._thread.start()
        return self

    def register(self, redirect_uri: str) -> tuple[str, str]:
        """A confidential client whose only redirect URI is `redirect_uri`: (id, secret)."""
        body = json.dumps({"redirect_uris": [redirect_uri]}).encode()
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.url}/oauth2/clients",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
            client = json.load(answer)
        return str(client["client_id"]), str(client["client_secret"])

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()


class HostedUi:
    """Cognito's hosted `/oauth2/authorize`, `/oauth2/token` and `/logout` for the local pool."""

    def __init__(
        self,
        *,
        cognito: Any,
        user_pool_id: str,
        client_id: str,
        base_url: str,
        callback_urls: list[str],
        idp: LocalIdentityProvider,
        links_file: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
        code_ttl: float = CODE_TTL,
    ) -> None:
        self.cognito = cognito
        self.user_pool_id = user_pool_id
        self.client_id = client_id
        self.base_url = base_url.rstrip("/")
        self.callback_urls = list(callback_urls)
        self.idp = idp
        self.idp_response_url = f"{self.base_url}/oauth2/idpresponse"
        self.idp_client_id, self.idp_client_secret = idp.register(self.idp_response_url)
        self.clock = clock
        self.code_ttl = code_ttl
        self._attempts: dict[str, _Attempt] = {}
        self._codes: dict[str, _Code] = {}
        self._links_file = links_file
        self._links: dict[str, str] = self._load_links()
        self._key = _moto_key()
        self._users_lock = threading.Lock()
        origins = sorted({_origin(url) for url in self.callback_urls})
        self.app = Starlette(
            routes=[
                Route("/oauth2/authorize", self.authorize, methods=["GET"]),
                Route("/oauth2/idpresponse", self.idp_response, methods=["GET"]),
                Route("/oauth2/token", self.token, methods=["POST"]),
                Route("/logout", self.logout, methods=["GET"]),
            ],
            middleware=[
                Middleware(
                    CORSMiddleware,
                    allow_origins=origins,
                    allow_methods=["POST"],
                    allow_headers=["Content-Type"],
                )
            ],
        )

    # -- the people the provider signed in, linked to their pool users ----------------------------

    def _load_links(self) -> dict[str, str]:
        if self._links_file is None or not self._links_file.exists():
            return {}
        links: dict[str, str] = json.loads(self._links_file.read_text(encoding="utf-8"))
        return links

    def _save_links(self) -> None:
        if self._links_file is not None:
            self._links_file.write_text(json.dumps(self._links, indent=1), encoding="utf-8")

    # -- /oauth2/authorize ------------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id:
            return _page(400, "Sign-in refused", "client_id is not this pool's app client.")
        redirect_uri = q.get("redirect_uri", "")
        if redirect_uri not in self.callback_urls:
            return _page(
                400, "Sign-in refused", "redirect_uri is not one of the client's callback URLs."
            )
        state = q.get("state", "")

        def back(error: str, description: str) -> Response:
            return _redirect(redirect_uri, error=error, error_description=description, state=state)

        scopes = set(q.get("scope", "").split())
        if q.get("response_type") != "code":
            return back("unsupported_response_type", "Only the authorization code flow.")
        if "openid" not in scopes or not scopes <= SCOPES:
            return back("invalid_scope", "Scopes are openid, email and profile, with openid.")
        if q.get("identity_provider") != LOCAL_PROVIDER["name"]:
            return back("invalid_request", "Unknown identity_provider.")
        if not state or not q.get("nonce"):
            return back("invalid_request", "state and nonce are required here.")
        challenge = q.get("code_challenge", "")
        if q.get("code_challenge_method") != "S256" or not _CHALLENGE.fullmatch(challenge):
            return back("invalid_request", "PKCE with an S256 code_challenge is required.")
        self._forget_old()
        handle = secrets.token_urlsafe(24)
        attempt = _Attempt(
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            state=state,
            nonce=q["nonce"],
            challenge=challenge,
            idp_nonce=secrets.token_urlsafe(16),
            started=self.clock(),
        )
        self._attempts[handle] = attempt
        query = {
            "client_id": self.idp_client_id,
            "redirect_uri": self.idp_response_url,
            "response_type": "code",
            "scope": "openid email profile",
            "state": handle,
            "nonce": attempt.idp_nonce,
        }
        return RedirectResponse(
            f"{self.idp.url}/oauth2/authorize?{urllib.parse.urlencode(query)}", 302
        )

    def _forget_old(self) -> None:
        now = self.clock()
        for handle, attempt in list(self._attempts.items()):
            if now - attempt.started > ATTEMPT_TTL:
                del self._attempts[handle]
        for code, issued in list(self._codes.items()):
            if issued.expires <= now:
                del self._codes[code]

    # -- back from the identity provider ----------------------------------------------------------

    async def idp_response(self, request: Request) -> Response:
        q = request.query_params
        attempt = self._attempts.pop(q.get("state", ""), None)
        if attempt is None or self.clock() - attempt.started > ATTEMPT_TTL:
            return _page(400, "Sign-in expired", "Start signing in again from the app.")

        def back(error: str, description: str) -> Response:
            return _redirect(
                attempt.redirect_uri,
                error=error,
                error_description=description,
                state=attempt.state,
            )

        if q.get("error"):
            error = q["error"] if q["error"] == "access_denied" else "server_error"
            return back(error, "The identity provider did not sign you in.")
        try:
            claims = await asyncio.to_thread(self._provider_claims, q.get("code", ""), attempt)
            email = str(claims.get("email") or "").strip().lower()
            if not email:
                raise SignInRefused("The identity provider sent no e-mail address.")
            name = str(claims.get("name") or "").strip() or None
            tokens = await asyncio.to_thread(self._sign_in, email, name, str(claims["sub"]))
        except SignInRefused as refused:
            return back("access_denied", str(refused))
        tokens = {
            **tokens,
            "IdToken": self._hosted_id_token(tokens["IdToken"], attempt.nonce, str(claims["sub"])),
        }
        code = secrets.token_urlsafe(32)
        self._codes[code] = _Code(
            tokens=tokens,
            client_id=attempt.client_id,
            redirect_uri=attempt.redirect_uri,
            challenge=attempt.challenge,
            expires=self.clock() + self.code_ttl,
        )
        return _redirect(attempt.redirect_uri, code=code, state=attempt.state)

    def _provider_claims(self, code: str, attempt: _Attempt) -> dict[str, Any]:
        """The provider's ID token for `code`, checked: its signature, issuer, audience, nonce."""
        import jwt

        body = urllib.parse.urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.idp_response_url,
            }
        ).encode()
        basic = base64.b64encode(f"{self.idp_client_id}:{self.idp_client_secret}".encode()).decode()
        request = urllib.request.Request(  # noqa: S310 - loopback
            f"{self.idp.url}/oauth2/token",
            data=body,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"Basic {basic}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310 - loopback
                id_token = str(json.load(answer)["id_token"])
            signing = jwt.PyJWKClient(f"{self.idp.url}/jwks").get_signing_key_from_jwt(id_token)
            claims: dict[str, Any] = jwt.decode(
                id_token,
                signing.key,
                algorithms=["RS256", "ES256"],
                audience=self.idp_client_id,
                issuer=self.idp.url,
            )
        except Exception as exc:  # noqa: BLE001 - any failure is a refused sign-in
            log.warning("identity provider answer refused: %s", exc)
            raise SignInRefused("The identity provider's answer could not be verified.") from None
        if claims.get("nonce") != attempt.idp_nonce:
            raise SignInRefused("The identity provider's answer was not for this sign-in.")
        return claims

    def _sign_in(self, email: str, name: str | None, subject: str) -> dict[str, Any]:
        """Makes or finds the pool user of `email` and has moto sign it in: its tokens."""
        from botocore.exceptions import ClientError

        password = f"{secrets.token_urlsafe(24)}aA1!"
        pool, client = self.user_pool_id, self.client_id
        with self._users_lock:
            try:
                self.cognito.admin_get_user(UserPoolId=pool, Username=email)
                exists = True
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "UserNotFoundException":
                    raise
                exists = False
            if exists and self._links.get(email) != subject:
                raise SignInRefused(
                    "An account with this e-mail address signs in with a password; the local "
                    "stack does not link it to an identity provider."
                )
            if not exists:
                attributes = [
                    {"Name": "email", "Value": email},
                    {"Name": "email_verified", "Value": "true"},
                ]
                if name:
                    attributes.append({"Name": "name", "Value": name})
                try:  # Cognito runs the pre-sign-up trigger as for an identity provider's user
                    self.cognito.admin_create_user(
                        UserPoolId=pool,
                        Username=email,
                        UserAttributes=attributes,
                        TemporaryPassword=password,
                        MessageAction="SUPPRESS",
                        ClientMetadata={SOURCE_METADATA: EXTERNAL_PROVIDER},
                    )
                except ClientError as exc:
                    if exc.response["Error"]["Code"] != "UserLambdaValidationException":
                        raise
                    raise SignInRefused(exc.response["Error"]["Message"]) from None
                self._links[email] = subject
                self._save_links()
            else:  # a temporary password: the user is not confirmed again (no trigger runs)
                self.cognito.admin_set_user_password(
                    UserPoolId=pool, Username=email, Password=password, Permanent=False
                )
            try:
                answer = self.cognito.admin_initiate_auth(
                    UserPoolId=pool,
                    ClientId=client,
                    AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                    AuthParameters={"USERNAME": email, "PASSWORD": password},
                )
                if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
                    answer = self.cognito.admin_respond_to_auth_challenge(
                        UserPoolId=pool,
                        ClientId=client,
                        ChallengeName="NEW_PASSWORD_REQUIRED",
                        ChallengeResponses={
                            "USERNAME": email,
                            "NEW_PASSWORD": f"{secrets.token_urlsafe(24)}aA1!",
                        },
                        Session=answer["Session"],
                    )
            except ClientError as exc:
                raise SignInRefused(f"The user pool refused the sign-in: {exc}") from None
        result = answer.get("AuthenticationResult")
        if not result:
            raise SignInRefused(
                f"The user pool asked for {answer.get('ChallengeName')}: federated users are "
                "not asked for a second factor by Cognito; the local stand-in supports mfa "
                "OFF or OPTIONAL only."
            )
        return dict(result)

    def _hosted_id_token(self, id_token: str, nonce: str, subject: str) -> str:
        """moto's ID token with what the hosted endpoint adds (nonce, identities), signed
        again with moto's key."""
        from joserfc import jwt as jose_jwt

        token = jose_jwt.decode(id_token, self._key)
        claims = dict(token.claims)
        claims["nonce"] = nonce
        claims["identities"] = [
            {
                "userId": subject,
                "providerName": LOCAL_PROVIDER["name"],
                "providerType": "OIDC",
                "issuer": None,
                "primary": "true",
                "dateCreated": str(int(time.time() * 1000)),
            }
        ]
        return str(jose_jwt.encode(dict(token.header), claims, self._key))

    # -- /oauth2/token ----------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        def refuse(error: str, status: int = 400) -> Response:
            return JSONResponse({"error": error}, status_code=status)

        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type != "application/x-www-form-urlencoded":
            return refuse("invalid_request")
        try:
            pairs = urllib.parse.parse_qsl(
                (await request.body()).decode("utf-8"), strict_parsing=True
            )
        except (UnicodeDecodeError, ValueError):
            return refuse("invalid_request")
        form = dict(pairs)
        if len(form) != len(pairs):  # a parameter given twice (RFC 6749, 3.2)
            return refuse("invalid_request")
        if form.get("grant_type") != "authorization_code":
            return refuse("unsupported_grant_type")
        # Taken out before any check: a code is spent by its first use, right or wrong.
        issued = self._codes.pop(str(form.get("code", "")), None)
        if issued is None or issued.expires <= self.clock():
            return refuse("invalid_grant")
        if form.get("client_id") != issued.client_id:
            return refuse("invalid_client", 401)
        if form.get("redirect_uri") != issued.redirect_uri:
            return refuse("invalid_grant")
        verifier = str(form.get("code_verifier", ""))
        if not _VERIFIER.fullmatch(verifier) or not secrets.compare_digest(
            s256(verifier), issued.challenge
        ):
            return refuse("invalid_grant")
        tokens = issued.tokens
        return JSONResponse(
            {
                "id_token": tokens["IdToken"],
                "access_token": tokens["AccessToken"],
                "refresh_token": tokens["RefreshToken"],
                "expires_in": tokens.get("ExpiresIn", 3600),
                "token_type": "Bearer",
            },
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    # -- /logout ----------------------------------------------------------------------------------

    async def logout(self, request: Request) -> Response:
        q = request.query_params
        if q.get("client_id") != self.client_id or q.get("logout_uri") not in self.callback_urls:
            return _page(
                400, "Sign-out refused", "logout_uri is not one of the client's sign-out URLs."
            )
        return RedirectResponse(q["logout_uri"], 302)


def _origin(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _redirect(url: str, **params: str) -> Response:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v})
    return RedirectResponse(f"{url}{'&' if '?' in url else '?'}{query}", 302)
