"""The local moto's DynamoDB answers, written directly as JSON (`tasks.local.aws._dynamodb_json`),
are exactly what moto's own serialiser writes: every item operation of a realistic workload is
answered both ways and compared, and what the shortcut must leave to moto is left to it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.responses import ActionResult

from tasks.local import aws

REGION = "eu-west-1"


@pytest.fixture
def compared(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every DynamoDB answer moto serialises, checked against the shortcut; the operations seen."""
    aws.tune_moto()
    generic = aws._GENERIC_EXECUTE_RESULT
    assert generic is not None
    seen: list[str] = []

    def both(self: Any, context: Any) -> Any:
        status, headers, body = generic(self, context)
        operation = str(context.operation_model.name)
        if context.service_model.service_name == "dynamodb":
            members = context.operation_model.output_shape.members
            fast = aws._dynamodb_json(operation, self.result, members)
            if fast is not None:
                assert (status, headers) == (200, {"Content-Type": "application/x-amz-json-1.0"})
                assert json.loads(fast) == json.loads(body), operation
                seen.append(operation)
        return status, headers, body

    monkeypatch.setattr(ActionResult, "execute_result", both)
    with mock_aws():
        yield seen


def _item(pk: str, sk: str, **extra: Any) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **extra}


def test_every_item_operation_answers_what_moto_would(compared: list[str]) -> None:
    db = boto3.client("dynamodb", region_name=REGION)
    db.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
    )
    rich = {
        "n": {"N": "12.50"},
        "ok": {"BOOL": True},
        "none": {"NULL": True},
        "tags": {"SS": ["a", "b"]},
        "sizes": {"NS": ["1", "2"]},
        "list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"BOOL": False}}}]},
        "map": {"M": {"title": {"S": "Ünïcode ✓"}, "count": {"N": "3"}}},
    }
    for index in range(5):
        db.put_item(TableName="t", Item=_item("CONV#1", f"MSG#{index}", **rich))
    db.put_item(
        TableName="t", Item=_item("CONV#1", "META", title={"S": "old"}),
        ReturnConsumedCapacity="TOTAL",
    )  # fmt: skip
    db.get_item(TableName="t", Key={"pk": {"S": "CONV#1"}, "sk": {"S": "MSG#1"}})
    db.get_item(TableName="t", Key={"pk": {"S": "CONV#1"}, "sk": {"S": "nothing"}})
    page = db.query(
        TableName="t", KeyConditionExpression="pk = :p", Limit=2, ScanIndexForward=False,
        ExpressionAttributeValues={":p": {"S": "CONV#1"}}, ReturnConsumedCapacity="TOTAL",
    )  # fmt: skip
    assert page["LastEvaluatedKey"]
    db.scan(
        TableName="t",
        Limit=3,
        ProjectionExpression="pk, sk, #m",
        ExpressionAttributeNames={"#m": "map"},
    )
    db.update_item(
        TableName="t", Key={"pk": {"S": "CONV#1"}, "sk": {"S": "META"}},
        UpdateExpression="SET title = :t ADD version :one",
        ExpressionAttributeValues={":t": {"S": "new"}, ":one": {"N": "1"}}, ReturnValues="ALL_NEW",
    )  # fmt: skip
    db.delete_item(
        TableName="t", Key={"pk": {"S": "CONV#1"}, "sk": {"S": "MSG#4"}}, ReturnValues="ALL_OLD"
    )
    db.batch_write_item(
        RequestItems={"t": [{"PutRequest": {"Item": _item("CONV#2", f"M#{i}")}} for i in range(3)]}
    )
    db.batch_get_item(
        RequestItems={
            "t": {"Keys": [{"pk": {"S": "CONV#2"}, "sk": {"S": f"M#{i}"}} for i in range(3)]}
        }
    )
    db.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": "t", "Item": _item("CONV#3", "META")}},
            {"Update": {
                "TableName": "t", "Key": {"pk": {"S": "CONV#1"}, "sk": {"S": "META"}},
                "UpdateExpression": "ADD version :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }},
        ]
    )  # fmt: skip
    db.transact_get_items(
        TransactItems=[
            {"Get": {"TableName": "t", "Key": {"pk": {"S": "CONV#3"}, "sk": {"S": "META"}}}}
        ]
    )
    # every item operation was answered both ways, and the answers were the same
    assert set(compared) == aws.FAST_JSON_OPERATIONS


def test_what_moto_must_convert_is_left_to_moto() -> None:
    item = {"Item", "ConsumedCapacity"}
    assert aws._dynamodb_json("GetItem", {"Item": {"blob": {"B": "AAE="}}}, item) is None
    assert aws._dynamodb_json("GetItem", {"Item": None}, item) is None
    assert aws._dynamodb_json("DescribeTable", {"Table": {"TableName": "t"}}, {"Table"}) is None
    answer = aws._dynamodb_json("GetItem", {"Item": {"pk": {"S": "x"}}, "Extra": 1}, item)
    assert answer == '{"Item": {"pk": {"S": "x"}}}'
