"""A browser may call every route: the HTTP API's CORS allows each method the manifest's
routes use, in Terraform and in the local gateway alike (a method left out fails only in the
browser, at its preflight)."""

from __future__ import annotations

from tasks.core.manifest import Manifest
from tasks.local.gateway.settings import Cors
from tests.infra.hcl import Config


def test_cors_allows_every_method_of_the_manifests_routes(
    tf: dict[str, Config], manifest: Manifest
) -> None:
    used = {route.method for route, _ in manifest.http_routes()}
    api = tf["modules/http_api"].resource("aws_apigatewayv2_api")
    [cors] = api["cors_configuration"]
    deployed = set(cors["allow_methods"])
    assert used - deployed == set(), "modules/http_api: CORS allow_methods lacks these"
    assert used - set(Cors().allow_methods) == set(), "the local gateway's CORS lacks these"
    assert deployed == set(Cors().allow_methods)
