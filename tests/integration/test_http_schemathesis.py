"""Property-based fuzzing of chat_api from its own OpenAPI document (schemathesis).

Every operation gets a fixed example budget; a response must never be a 5xx, and must conform
to the document (status code, content type, body schema, headers). The handler runs in-process
behind a loopback HTTP server, against moto and the scripted model.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.api import call
from tests.support.cognito import TestUser
from tests.support.lambda_http import LambdaHttpServer

EXAMPLES_PER_OPERATION = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture
def server(parley_env: dict[str, str]) -> Iterator[LambdaHttpServer]:
    from chat_api.app import handler

    running = LambdaHttpServer(handler).start()
    yield running
    running.stop()


def test_every_operation_conforms_to_the_document(server: LambdaHttpServer, user: TestUser) -> None:
    from chat_api.app import handler

    document = call(handler, "GET", "/openapi.json", headers=user.bearer()).json
    schema = schemathesis.openapi.from_dict(document)
    auth = user.bearer()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13
    statuses: list[int] = []

    conversation = call(
        handler, "POST", "/conversations", headers=auth, body={"kind": "group"}
    ).json["id"]

    for operation in operations:
        strategies = [
            operation.as_strategy(),
            operation.as_strategy(GenerationMode.NEGATIVE),
        ]
        if "{id}" in operation.path:  # also reach the logic behind a real conversation
            strategies.append(operation.as_strategy(path_parameters={"id": conversation}))

        @given(case=st.one_of(strategies))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            response = case.call_and_validate(base_url=server.url, headers=auth, checks=CHECKS)
            statuses.append(response.status_code)

        run()

    # The fuzzing reached the routes' logic, not only the token check or validation.
    assert any(200 <= s < 300 for s in statuses)
    assert any(s == 404 for s in statuses)
    assert any(s == 422 for s in statuses)
    assert any(s == 401 for s in statuses)  # negative cases drop or garble the credentials
    print(f"schemathesis: {len(statuses)} requests, statuses {sorted(set(statuses))}")
