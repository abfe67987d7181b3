"""The cost meter of the cost benchmark (`tests/benchmarks/cost.py`) on hand-computed cases.

Item sizes and units at their boundaries, by DynamoDB's and API Gateway's published rules, and
the meter's botocore hooks on real clients answered by botocore's Stubber (no network).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.stub import Stubber

from tests.benchmarks.cost import (
    IndexSpec,
    Meter,
    PriceTable,
    TableSpec,
    Usage,
    apply_update,
    billed_ms,
    gb_seconds,
    index_write_units,
    item_size,
    number_size,
    read_units,
    value_size,
    websocket_units,
    write_units,
)

TABLE = "chat"
SPEC = TableSpec("pk", "sk", (IndexSpec("GSI1", "gsi1pk", "gsi1sk"),))


def sized(total: int, **extra: Any) -> dict[str, Any]:
    """An item of exactly `total` bytes: pk (2 + 4), sk (2 + 4), and `pad` fills the rest."""
    item = {"pk": {"S": "CONV"}, "sk": {"S": "MSG1"}, **extra}
    rest = total - item_size(item) - len("pad")
    assert rest >= 0
    return {**item, "pad": {"S": "x" * rest}}


# -- item sizes ------------------------------------------------------------------------------


def test_strings_and_names_count_their_utf8_bytes() -> None:
    assert item_size({"pk": {"S": "CONV#1"}}) == 2 + 6
    assert item_size({"é": {"S": "€"}}) == 2 + 3


@pytest.mark.parametrize(
    ("number", "size"),
    [("7", 2), ("12", 2), ("123", 3), ("12345", 4), ("100", 2), ("0.0050", 2), ("-1.5", 2)],
)
def test_numbers_cost_a_byte_per_two_significant_digits_plus_one(number: str, size: int) -> None:
    assert number_size(number) == size


def test_lists_and_maps_carry_three_bytes_and_one_per_element() -> None:
    assert value_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (2 + 1) + (2 + 1)
    assert value_size({"M": {"k": {"S": "v"}}}) == 3 + (1 + 1 + 1)
    assert value_size({"L": []}) == 3


def test_other_types() -> None:
    assert value_size({"BOOL": True}) == value_size({"NULL": True}) == 1
    assert value_size({"B": base64.b64encode(b"\x00\x01\x02").decode()}) == 3
    assert value_size({"B": b"\x00\x01\x02\x03"}) == 4
    assert value_size({"SS": ["a", "bb"]}) == 3
    assert value_size({"NS": ["1", "123"]}) == 2 + 3
    assert item_size(None) == item_size({}) == 0


def test_sized_items_are_exactly_their_size() -> None:
    assert item_size(sized(1024)) == 1024
    assert item_size(sized(4097)) == 4097


# -- units -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "units"), [(0, 1), (1, 1), (1024, 1), (1025, 2), (5000, 5)])
def test_a_write_costs_one_unit_per_started_kilobyte(size: int, units: int) -> None:
    assert write_units(size) == units


def test_an_item_of_1_kb_is_one_write_unit_and_a_byte_more_two() -> None:
    assert write_units(item_size(sized(1024))) == 1
    assert write_units(item_size(sized(1025))) == 2


def test_a_write_costs_the_larger_of_the_item_before_and_after() -> None:
    assert write_units(item_size(sized(1000)), item_size(sized(1100))) == 2
    assert write_units(item_size(sized(3000)), 0) == 3  # a delete: the item removed


def test_a_transactional_write_costs_twice() -> None:
    assert write_units(1024, transactional=True) == 2
    assert write_units(1025, transactional=True) == 4
    assert write_units(0, transactional=True) == 2


def test_consistent_reads_cost_one_unit_per_4_kb_eventual_half() -> None:
    assert read_units(4096, consistent=True) == 1.0
    assert read_units(4097, consistent=True) == 2.0
    assert read_units(4096, consistent=False) == 0.5
    assert read_units(4097, consistent=False) == 1.0
    assert read_units(0, consistent=True) == 1.0  # nothing found still reads
    assert read_units(0, consistent=False) == 0.5
    assert read_units(4097, consistent=True, transactional=True) == 4.0


def test_a_33_kb_frame_is_two_websocket_messages() -> None:
    assert websocket_units(33 * 1024) == 2
    assert websocket_units(32 * 1024) == 1
    assert websocket_units(32 * 1024 + 1) == 2
    assert websocket_units(150) == 1


def test_lambda_compute_is_billed_per_millisecond_at_the_memory() -> None:
    assert billed_ms(0.0101) == 11
    assert billed_ms(0.010) == 10
    assert billed_ms(0.0) == 1
    assert gb_seconds(1000, 512) == 0.5
    assert gb_seconds(10_000, 256) == 2.5


def test_index_writes_follow_the_item_into_out_of_and_across_the_index() -> None:
    plain = sized(500)
    listed = sized(500, gsi1pk={"S": "USER#1"}, gsi1sk={"S": "2026#a"})
    moved = {**listed, "gsi1sk": {"S": "2026#b"}}
    big = sized(2100, gsi1pk={"S": "USER#1"}, gsi1sk={"S": "2026#a"})
    assert index_write_units(SPEC, None, plain) == 0  # never in the index
    assert index_write_units(SPEC, None, listed) == 1  # enters
    assert index_write_units(SPEC, listed, None) == 1  # leaves
    assert index_write_units(SPEC, listed, moved) == 2  # delete + put under the new key
    assert index_write_units(SPEC, listed, big) == 3  # changed in place: the larger size
    assert index_write_units(SPEC, listed, dict(listed)) == 0  # nothing changed


def test_the_price_table_names_a_source_for_every_price() -> None:
    prices = PriceTable.load()
    assert prices.region == "us-east-1"
    for price in [*prices.usage.values(), *prices.idle.values()]:
        assert price.source.startswith("https://aws.amazon.com/"), price
        assert price.confidence in ("high", "medium"), price
    bill = prices.bill(Usage(write_units=1_000_000, read_units=2_000_000, websocket_out_units=3))
    assert bill["DynamoDB writes"] == pytest.approx(0.625)
    assert bill["DynamoDB reads"] == pytest.approx(0.25)
    assert bill["WebSocket messages"] == pytest.approx(3e-6)


# -- the meter on real clients ---------------------------------------------------------------


class FakeItems:
    """What the meter reads for itself: successive states of an item, and whole query pages."""

    def __init__(self) -> None:
        self.states: dict[str, list[dict[str, Any] | None]] = {}
        self.pages: list[list[dict[str, Any]]] = []

    def set(self, key: Mapping[str, Any], *states: dict[str, Any] | None) -> None:
        self.states[repr(sorted(key.items()))] = list(states)

    def get(self, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
        states = self.states.get(repr(sorted(key.items())), [None])
        return states.pop(0) if len(states) > 1 else states[0]

    def query(self, operation: str, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        assert "ProjectionExpression" not in request
        return self.pages.pop(0)


KEY = {"pk": {"S": "CONV"}, "sk": {"S": "MSG1"}}


@pytest.fixture
def items() -> FakeItems:
    return FakeItems()


@pytest.fixture
def meter(items: FakeItems) -> Meter:
    return Meter(tables={TABLE: SPEC}, items=items, memory_mb={"bot_worker": 512})


@pytest.fixture
def dynamodb(meter: Meter) -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    meter.install_client(client)
    with Stubber(client) as stubber:
        yield client, stubber


def test_an_update_is_billed_on_the_larger_of_before_and_after(
    meter: Meter, items: FakeItems, dynamodb: tuple[Any, Stubber]
) -> None:
    client, stubber = dynamodb
    items.set(KEY, sized(1000), sized(1100))
    stubber.add_response("update_item", {})
    with meter.scope("reply"):
        client.update_item(TableName=TABLE, Key=KEY, UpdateExpression="SET pad = :p")
    [call] = meter.scope_calls("reply")
    assert (call.operation, call.write_units, call.index_write_units) == ("UpdateItem", 2, 0)
    assert call.target == "CONV / MSG1"
    assert meter.usage("reply").write_units == 2


def test_a_refused_conditional_write_still_costs_the_item_as_it_stands(
    meter: Meter, items: FakeItems, dynamodb: tuple[Any, Stubber]
) -> None:
    client, stubber = dynamodb
    items.set(KEY, sized(2100))
    stubber.add_client_error("put_item", "ConditionalCheckFailedException", http_status_code=400)
    with meter.scope("reply"), pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(
            TableName=TABLE, Item=sized(100), ConditionExpression="attribute_not_exists(pk)"
        )
    [call] = meter.scope_calls("reply")
    assert (call.write_units, call.error) == (3, "ConditionalCheckFailedException")


def test_a_transaction_doubles_every_item_condition_checks_included(
    meter: Meter, items: FakeItems, dynamodb: tuple[Any, Stubber]
) -> None:
    client, stubber = dynamodb
    conversation = {"pk": {"S": "CONV"}, "sk": {"S": "META"}}
    items.set(conversation, {**conversation, "title": {"S": "x" * 90}})
    stubber.add_response("transact_write_items", {})
    with meter.scope("post"):
        client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": conversation,
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Put": {"TableName": TABLE, "Item": sized(1500)}},
            ]
        )
    [call] = meter.scope_calls("post")
    assert call.write_units == 2 * 1 + 2 * 2


def test_queries_sum_what_they_read_consistent_or_eventual(
    meter: Meter, items: FakeItems, dynamodb: tuple[Any, Stubber]
) -> None:
    client, stubber = dynamodb
    page = [sized(2000), sized(2000), sized(2000)]  # 6,000 bytes: two 4 KB steps
    for consistent in (True, False):
        stubber.add_response("query", {"Items": page, "Count": 3, "ScannedCount": 3})
        with meter.scope(f"consistent={consistent}"):
            client.query(
                TableName=TABLE,
                KeyConditionExpression="pk = :p",
                ExpressionAttributeValues={":p": {"S": "CONV"}},
                ConsistentRead=consistent,
            )
    assert meter.usage("consistent=True").read_units == 2.0
    assert meter.usage("consistent=False").read_units == 1.0
    [call] = meter.scope_calls("consistent=True")
    assert (call.target, call.items) == ("pk = CONV", 3)


def test_a_projected_query_is_billed_for_the_whole_items_it_read(
    meter: Meter, items: FakeItems, dynamodb: tuple[Any, Stubber]
) -> None:
    client, stubber = dynamodb
    items.pages.append([sized(3000), sized(3000)])
    trimmed = [{"sk": {"S": "MSG1"}}, {"sk": {"S": "MSG1"}}]
    stubber.add_response("query", {"Items": trimmed, "Count": 2, "ScannedCount": 2})
    with meter.scope("subscribers"):
        client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p AND begins_with(sk, :c)",
            ProjectionExpression="sk, #n",
            ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":p": {"S": "CONV#1"}, ":c": {"S": "CONN#"}},
            ConsistentRead=True,
        )
    [call] = meter.scope_calls("subscribers")
    assert call.read_units == 2.0  # 6,000 bytes read, not the few returned
    assert call.target == "pk = CONV#… AND begins_with(sk, CONN#)"


def test_posts_are_answered_and_billed_in_32_kb_steps(meter: Meter) -> None:
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url="http://127.0.0.1:9/test",  # never reached: the meter answers
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    meter.install_client(client)
    meter.watched.add("abc=")
    with meter.scope("fan-out"):
        client.post_to_connection(ConnectionId="abc=", Data=b"x" * (33 * 1024))
        client.post_to_connection(ConnectionId="other=", Data=b"{}")
    usage = meter.usage("fan-out")
    assert (usage.websocket_out, usage.websocket_out_units) == (2, 3)
    assert [len(f) for f in meter.frames["abc="]] == [33 * 1024]


def test_an_invocation_is_a_request_and_its_billed_duration_at_the_manifest_memory(
    meter: Meter,
) -> None:
    with meter.scope("reply"), meter.invocation("bot_worker", floor_seconds=2.0):
        pass
    usage = meter.usage("reply")
    assert usage.lambda_requests == 1
    assert usage.lambda_gb_seconds == pytest.approx(1.0)  # 2,000 ms at 512 MB
    assert meter.invocations[0].billed_ms == 2000


def test_nothing_is_recorded_outside_a_scope(
    meter: Meter, items: FakeItems, dynamodb: tuple[Any, Stubber]
) -> None:
    client, stubber = dynamodb
    stubber.add_response("delete_item", {})
    client.delete_item(TableName=TABLE, Key=KEY)
    assert meter.calls == []


def test_simple_updates_are_applied_and_anything_more_is_left_to_a_read() -> None:
    before = {**KEY, "content": {"S": "ab"}, "stop_requested": {"BOOL": True}}
    request = {
        "UpdateExpression": "SET content = :c, #st = :s REMOVE stop_requested",
        "ExpressionAttributeNames": {"#st": "status"},
        "ExpressionAttributeValues": {":c": {"S": "abcd"}, ":s": {"S": "complete"}},
    }
    assert apply_update(before, KEY, request) == {
        **KEY,
        "content": {"S": "abcd"},
        "status": {"S": "complete"},
    }
    assert apply_update(None, KEY, {**request, "UpdateExpression": "SET content = :c"}) == {
        **KEY,
        "content": {"S": "abcd"},
    }  # an update creates a missing item
    adding = {"UpdateExpression": "ADD tokens :n", "ExpressionAttributeValues": {":n": {"N": "1"}}}
    assert apply_update(before, KEY, adding) is None
    arithmetic = {**request, "UpdateExpression": "SET n = n + :c"}
    assert apply_update(before, KEY, arithmetic) is None


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.data


def test_a_repeated_read_is_answered_again_until_its_table_is_written(
    items: FakeItems,
) -> None:
    client = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    meter = Meter(tables={TABLE: SPEC}, items=items, memory_mb={}, replay_reads=True)
    meter.install_client(client)
    answers = [json.dumps({"Item": sized(5000)}).encode(), b"{}", b"{}"]
    reached: list[str] = []

    def dynamodb(request: Any, **kwargs: Any) -> AWSResponse:  # what DynamoDB answers
        reached.append(json.loads(request.body)["TableName"])
        return AWSResponse(request.url, 200, HTTPHeaders(), _Body(answers[len(reached) - 1]))

    events: Any = client.meta.events
    events.register("before-send.dynamodb", dynamodb)
    read: dict[str, Any] = {"TableName": TABLE, "Key": KEY, "ConsistentRead": True}
    with meter.scope("reads"):
        first = client.get_item(**read)
        again = client.get_item(**read)  # answered by the meter
        client.delete_item(TableName=TABLE, Key=KEY)
        gone = client.get_item(**read)  # after a write to its table: asked again
    assert len(reached) == 3
    assert meter.replayed == 1
    assert again["Item"] == first["Item"]
    assert again["Item"]["pad"]["S"] == first["Item"]["pad"]["S"]
    assert "Item" not in gone
    units = [c.read_units for c in meter.scope_calls("reads") if c.operation == "GetItem"]
    assert units == [2.0, 2.0, 1.0]  # a replayed read is billed as the read it repeats
