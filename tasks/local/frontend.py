"""Serves the built web app (frontend/dist) with the runtime `config.json` of the local stack,
and the local mailbox: the e-mails Cognito would have sent (`/_local/mailbox`)."""

from __future__ import annotations

import asyncio
import html
import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from tasks.local.cognito_mail import read_mailbox

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Parley — local stack</title>
<h1>The web app is not built</h1>
<p>Build it with <code>npm --prefix frontend ci &amp;&amp; npm --prefix frontend run build</code>
and reload. The APIs are running: <a href="/config.json">config.json</a> lists them.</p>"""


class _SpaFiles(StaticFiles):
    """Static files with an SPA fallback (404 → index.html). CloudFront has none since its
    Content-Security-Policy comes from a viewer-response function, which does not run on errors;
    the app routes by #hash, so only unknown paths differ (403 there)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            return FileResponse(Path(str(self.directory)) / "index.html")


MAILBOX_PAGE = "/_local/mailbox"
"""The mailbox page on the app's origin; `?to=<address>` shows one address's messages."""


def app_password_policy(policy: dict[str, Any]) -> dict[str, Any]:
    """A Cognito PasswordPolicy as config.json's `passwordPolicy` (docs/contracts.md)."""
    return {
        "minLength": int(policy.get("MinimumLength", 8)),
        "requireLowercase": bool(policy.get("RequireLowercase", False)),
        "requireUppercase": bool(policy.get("RequireUppercase", False)),
        "requireNumbers": bool(policy.get("RequireNumbers", False)),
        "requireSymbols": bool(policy.get("RequireSymbols", False)),
    }


def frontend_config(
    *,
    region: str,
    user_pool_id: str,
    client_id: str,
    cognito_endpoint: str,
    http_api_url: str,
    ws_url: str,
    password_policy: dict[str, Any] | None = None,
    mfa: str | None = None,
    demo_model: str | None = None,
    oauth: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The runtime config of docs/contracts.md, pointed at the local endpoints; `local` tells
    the app it runs on this stack (the mailbox, and the tiny demo model when it answers).
    `mfa` is the pool's setting (OFF, OPTIONAL, ON), as Terraform writes it."""
    config: dict[str, Any] = {
        "region": region,
        "cognito": {
            "userPoolId": user_pool_id,
            "clientId": client_id,
            "endpoint": cognito_endpoint,
            "authFlow": "USER_PASSWORD_AUTH",
        },
        "httpApiUrl": http_api_url,
        "wsUrl": ws_url,
        "local": {"mailboxUrl": MAILBOX_PAGE, "demoModel": demo_model},
    }
    if password_policy is not None:
        config["passwordPolicy"] = app_password_policy(password_policy)
    if mfa is not None:
        config["mfa"] = mfa
    if oauth is not None:  # federated sign-in: the hosted endpoints' stand-in, its providers
        config["oauth"] = oauth
    return config


_KINDS = {
    "verification": "Verification code",
    "reset": "Password reset",
    "invitation": "Invitation",
}

_MAILBOX_STYLE = """
:root{color-scheme:light dark;font-family:system-ui,sans-serif;--fg:#1f2328;--muted:#57606a;
--bg:#fff;--card:#f6f8fa;--line:#d0d7de;--accent:#0a58ca}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9da7b3;--bg:#0d1117;--card:#161b22;
--line:#30363d;--accent:#79b8ff}}
body{margin:0;background:var(--bg);color:var(--fg)}
main{max-width:44rem;margin:0 auto;padding:1.5rem 1rem}
h1{font-size:1.5rem;margin:0 0 .25rem}p{line-height:1.5}.muted{color:var(--muted)}
a{color:var(--accent)}ol{list-style:none;padding:0}
li{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:1rem;
margin:0 0 .75rem}
h2{font-size:1rem;margin:0 0 .25rem}
.code{font:600 1.75rem/1.2 ui-monospace,monospace;letter-spacing:.15em;margin:.5rem 0}
button{font:inherit;padding:.25rem .75rem;border-radius:.375rem;border:1px solid var(--line);
background:var(--bg);color:var(--fg);cursor:pointer}
"""

_MAILBOX_SCRIPT = """
document.querySelectorAll("button[data-code]").forEach((b) => b.addEventListener("click", () => {
  navigator.clipboard.writeText(b.dataset.code).then(() => { b.textContent = "Copied"; });
}));
const newest = document.body.dataset.newest;
setInterval(async () => {
  const r = await fetch("mailbox.json" + location.search, {cache: "no-store"});
  if (!r.ok) return;
  const first = (await r.json()).messages[0];
  if ((first ? first.id : "") !== newest) location.reload();
}, 2000);
"""


def mailbox_page(messages: list[dict[str, Any]], to: str) -> str:
    """The mailbox as one accessible page, newest message first."""
    esc = html.escape
    items = []
    for message in messages:
        label = "Temporary password" if message["kind"] == "invitation" else "Code"
        items.append(
            f"<li><article aria-labelledby='m-{esc(message['id'])}'>"
            f"<h2 id='m-{esc(message['id'])}'>{esc(message['subject'])}</h2>"
            f"<p class='muted'>{esc(_KINDS.get(message['kind'], message['kind']))} to"
            f" {esc(message['to'])} · <time datetime='{esc(message['sentAt'])}'>"
            f"{esc(message['sentAt'].replace('T', ' ').rstrip('Z'))} UTC</time></p>"
            f"<p>{esc(message['body'])}</p>"
            f"<p class='code'>{esc(message['code'])}</p>"
            f"<button type='button' data-code='{esc(message['code'])}'>Copy {label.lower()}"
            "</button></article></li>"
        )
    scope = f" to {esc(to)}" if to else ""
    others = f"<p><a href='{MAILBOX_PAGE}'>Show every address</a></p>" if to else ""
    body = (
        f"<ol aria-label='Messages{scope}'>{''.join(items)}</ol>"
        if items
        else f"<p>No messages{scope} yet. This page updates when one arrives.</p>"
    )
    newest = esc(messages[0]["id"]) if messages else ""
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<title>Mailbox{scope} — Parley local stack</title><style>{_MAILBOX_STYLE}</style>"
        f"</head><body data-newest='{newest}'><main><h1>Local mailbox{scope}</h1>"
        "<p class='muted'>The e-mails Cognito would send — sign-up codes, password resets,"
        " invitations — caught by the local stack. Nothing leaves this machine. Newest first."
        f"</p>{others}{body}</main><script>{_MAILBOX_SCRIPT}</script></body></html>"
    )


def frontend_app(
    config: dict[str, Any], dist: Path = DIST, *, moto_url: str | None = None
) -> Starlette:
    """`/config.json` from the stack, the mailbox read from moto's process (with `moto_url`),
    everything else from the build (or a how-to page)."""

    async def config_json(request: Request) -> Response:
        return JSONResponse(config, headers={"cache-control": "no-store"})

    async def not_built(request: Request) -> Response:
        return HTMLResponse(_NOT_BUILT)

    async def mailbox_json(request: Request) -> Response:
        assert moto_url is not None
        to = request.query_params.get("to", "")
        found = await asyncio.to_thread(read_mailbox, moto_url, to)
        return JSONResponse({"messages": found}, headers={"cache-control": "no-store"})

    async def mailbox(request: Request) -> Response:
        assert moto_url is not None
        to = request.query_params.get("to", "").strip()
        found = await asyncio.to_thread(read_mailbox, moto_url, to)
        return HTMLResponse(mailbox_page(found, to), headers={"cache-control": "no-store"})

    routes: list[Any] = [Route("/config.json", config_json)]
    if moto_url is not None:
        routes += [
            Route(MAILBOX_PAGE, mailbox),
            Route(f"{MAILBOX_PAGE}.json", mailbox_json),
        ]
    if (dist / "index.html").exists():
        routes.append(Mount("/", _SpaFiles(directory=dist, html=True)))
    else:
        routes.append(Route("/{path:path}", not_built))
    return Starlette(routes=routes)


def write_config(config: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
