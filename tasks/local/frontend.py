"""Serves the built web app (frontend/dist) with the runtime `config.json` of the local stack."""

from __future__ import annotations

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


def frontend_config(
    *,
    region: str,
    user_pool_id: str,
    client_id: str,
    cognito_endpoint: str,
    http_api_url: str,
    ws_url: str,
) -> dict[str, Any]:
    """The runtime config of docs/contracts.md, pointed at the local endpoints."""
    return {
        "region": region,
        "cognito": {
            "userPoolId": user_pool_id,
            "clientId": client_id,
            "endpoint": cognito_endpoint,
            "authFlow": "USER_PASSWORD_AUTH",
        },
        "httpApiUrl": http_api_url,
        "wsUrl": ws_url,
    }


def frontend_app(config: dict[str, Any], dist: Path = DIST) -> Starlette:
    """`/config.json` from the stack, everything else from the build (or a how-to page)."""

    async def config_json(request: Request) -> Response:
        return JSONResponse(config, headers={"cache-control": "no-store"})

    async def not_built(request: Request) -> Response:
        return HTMLResponse(_NOT_BUILT)

    routes: list[Any] = [Route("/config.json", config_json)]
    if (dist / "index.html").exists():
        routes.append(Mount("/", _SpaFiles(directory=dist, html=True)))
    else:
        routes.append(Route("/{path:path}", not_built))
    return Starlette(routes=routes)


def write_config(config: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
