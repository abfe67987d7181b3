"""What a function's cold start imports: no more than its requests use.

`$connect` and `$disconnect` never see a token (the WebSocket authorizer verified it before
`$connect`; `$disconnect` carries none), so their functions must start without PyJWT and
`cryptography` (`tests.support.imports` imports each handler as Lambda's init does).
"""

from __future__ import annotations

import pytest

from tests.support.imports import handler_imports


@pytest.mark.parametrize("function", ["ws_connect", "ws_disconnect"])
def test_the_socket_opens_and_closes_without_the_token_libraries(function: str) -> None:
    assert handler_imports(function, ("jwt", "cryptography")) == []


def test_the_probe_sees_what_a_handler_imports() -> None:
    # the authorizer verifies tokens: the same probe must find the libraries there
    assert handler_imports("ws_authorizer", ("jwt", "cryptography")) == ["cryptography", "jwt"]
