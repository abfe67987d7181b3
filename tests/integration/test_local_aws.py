"""The local stack's moto: its own process, item-level transactions, the Cognito trigger."""

from __future__ import annotations

import functools
import json
import threading
import tomllib
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

import tasks.local.aws
from tasks.local.aws import (
    COGNITO_HOOKED,
    MOTO_VERSION,
    ROOT,
    TUNED,
    MotoPatchError,
    MotoProcess,
    MotoStartError,
    check_moto,
    hook_post_confirmation,
    tune_moto,
)
from tasks.local.bootstrap import FAKE_CREDENTIALS, LocalResources, bootstrap
from tasks.local.cognito_mail import HOOKED as MAIL_HOOKED
from tasks.local.cognito_mail import latest_code, read_mailbox
from tasks.local.servers import bind, port_of

REGION = "us-east-1"


def _client(service: str, url: str) -> Any:
    return boto3.client(service, endpoint_url=url, region_name=REGION, **FAKE_CREDENTIALS)


def _item(pk: str, sk: str, **extra: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}, **{k: {"S": v} for k, v in extra.items()}}


def _all_items(dynamodb: Any, table: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items.extend(page["Items"])
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


# -- transactions (the session's moto is tuned the same way) --------------------------------------
def test_a_cancelled_transaction_leaves_every_item_as_it_was(aws: LocalResources) -> None:
    dynamodb = _client("dynamodb", aws.endpoint_url)
    table = aws.table_names["chat"]
    dynamodb.put_item(TableName=table, Item=_item("C#1", "A", text="first"))
    dynamodb.put_item(TableName=table, Item=_item("C#1", "B", text="second"))
    for n in range(50):  # other items the transaction must not disturb
        dynamodb.put_item(TableName=table, Item=_item("C#2", f"M{n:03}", text=str(n)))
    before = _all_items(dynamodb, table)

    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "C#1"}, "sk": {"S": "A"}},
                        "UpdateExpression": "SET #t = :t",
                        "ExpressionAttributeNames": {"#t": "text"},
                        "ExpressionAttributeValues": {":t": {"S": "changed"}},
                    }
                },
                {"Delete": {"TableName": table, "Key": {"pk": {"S": "C#1"}, "sk": {"S": "B"}}}},
                {"Put": {"TableName": table, "Item": _item("C#1", "C", text="new")}},
                {
                    "Put": {
                        "TableName": table,
                        "Item": _item("C#2", "M000", text="again"),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    error = caught.value.response
    assert error["Error"]["Code"] == "TransactionCanceledException"
    assert [r["Code"] for r in error["CancellationReasons"]] == [
        "None",
        "None",
        "None",
        "ConditionalCheckFailed",
    ]
    assert _all_items(dynamodb, table) == before


def test_a_transaction_that_passes_applies_every_operation(aws: LocalResources) -> None:
    dynamodb = _client("dynamodb", aws.endpoint_url)
    table = aws.table_names["chat"]
    dynamodb.put_item(TableName=table, Item=_item("C#1", "A", text="first"))
    dynamodb.put_item(TableName=table, Item=_item("C#1", "B", text="second"))
    dynamodb.transact_write_items(
        TransactItems=[
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "C#1"}, "sk": {"S": "A"}}}},
            {
                "Put": {
                    "TableName": table,
                    "Item": _item("C#1", "C", text="new"),
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
            {
                "ConditionCheck": {
                    "TableName": table,
                    "Key": {"pk": {"S": "C#1"}, "sk": {"S": "B"}},
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
        ]
    )
    assert [(i["sk"]["S"], i["text"]["S"]) for i in _all_items(dynamodb, table)] == [
        ("B", "second"),
        ("C", "new"),
    ]


def test_a_cancelled_transaction_never_undoes_another_writer(aws: LocalResources) -> None:
    """Rolling back must not put back a whole table copied before someone else's write."""
    table = aws.table_names["chat"]
    seed = _client("dynamodb", aws.endpoint_url)
    for start in range(0, 300, 25):  # a table big enough that copying it takes a while
        seed.batch_write_item(
            RequestItems={
                table: [
                    {"PutRequest": {"Item": _item("C#0", f"M{n:04}", text="x" * 200)}}
                    for n in range(start, start + 25)
                ]
            }
        )
    stop = threading.Event()

    def failing_transactions() -> None:
        dynamodb = _client("dynamodb", aws.endpoint_url)
        while not stop.is_set():
            with pytest.raises(ClientError):
                dynamodb.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": table,
                                "Item": _item("C#0", "M0000"),
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        }
                    ]
                )

    threads = [threading.Thread(target=failing_transactions) for _ in range(2)]
    for thread in threads:
        thread.start()
    writer = _client("dynamodb", aws.endpoint_url)
    try:
        for n in range(150):
            writer.put_item(TableName=table, Item=_item("C#9", f"W{n:04}"))
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    written = [i for i in _all_items(writer, table) if i["pk"]["S"] == "C#9"]
    assert len(written) == 150


def test_concurrent_conditional_puts_of_one_item_let_exactly_one_win(
    aws: LocalResources,
) -> None:
    table = aws.table_names["chat"]
    outcomes: list[str] = []

    def put(n: int) -> None:
        dynamodb = _client("dynamodb", aws.endpoint_url)
        try:
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": table,
                            "Item": _item("C#1", "ONCE", writer=str(n)),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    }
                ]
            )
            outcomes.append("won")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=put, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["TransactionCanceledException"] * 11 + ["won"]


def test_a_query_reads_its_partition_in_key_order_and_pages(aws: LocalResources) -> None:
    dynamodb = _client("dynamodb", aws.endpoint_url)
    table = aws.table_names["chat"]
    for pk in ("C#1", "C#2", "C#3"):
        for n in (5, 3, 9, 1, 7):
            dynamodb.put_item(TableName=table, Item=_item(pk, f"MSG#{n}", text=f"{pk}/{n}"))
        dynamodb.put_item(TableName=table, Item=_item(pk, "META"))
    seen: list[str] = []
    start: dict[str, Any] | None = None
    while True:
        page = dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :p AND begins_with(sk, :m)",
            ExpressionAttributeValues={":p": {"S": "C#2"}, ":m": {"S": "MSG#"}},
            ScanIndexForward=False,
            Limit=2,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        seen += [i["text"]["S"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == ["C#2/9", "C#2/7", "C#2/5", "C#2/3", "C#2/1"]
    missing = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "C#404"}},
    )
    assert missing["Items"] == []
    # the table's other reads still see every partition
    assert len(_all_items(dynamodb, table)) == 18


# -- what the patches expect of moto -----------------------------------------------------------
def test_moto_is_pinned_to_the_version_the_patches_were_written_for() -> None:
    import moto

    dev = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["dependency-groups"]
    assert f"moto[server]=={MOTO_VERSION}" in dev["dev"]
    assert moto.__version__ == MOTO_VERSION
    check_moto(TUNED + COGNITO_HOOKED + MAIL_HOOKED)  # moto has every expected signature


def test_tuning_refuses_a_moto_whose_patched_method_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import moto
    from moto.dynamodb.models.table import Table

    def query(  # index_name moved: the partition patch would read the wrong argument
        self: Any,
        hash_key: Any,
        range_comparison: Any,
        range_objs: Any,
        limit: Any,
        exclusive_start_key: Any,
        scan_index_forward: Any,
        index_name: Any = None,
        projection_expressions: Any = None,
        **filter_kwargs: Any,
    ) -> Any:
        raise AssertionError("never called")

    monkeypatch.setattr(Table, "query", query)
    monkeypatch.setattr(Table, "all_items", Table.all_items)  # put back whatever happens
    monkeypatch.setattr(tasks.local.aws, "_tuned", False)
    with pytest.raises(MotoPatchError) as refused:
        tune_moto()
    message = str(refused.value)
    assert f"moto {moto.__version__} is installed" in message
    assert f"moto {MOTO_VERSION} internals" in message
    assert "Table.query(self, hash_key, range_comparison, range_objs, limit," in message
    assert "scan_index_forward, index_name=None, projection_expressions=None" in message
    assert Table.query is query, "nothing is patched"
    assert tasks.local.aws._tuned is False


def test_user_pools_share_one_imported_signing_key(aws: LocalResources) -> None:
    from joserfc import jwk
    from moto.cognitoidp.models import CognitoIdpUserPool
    from moto.utilities.utils import load_resource

    cognito = boto3.client(
        "cognito-idp", endpoint_url=aws.endpoint_url, region_name=aws.region, **FAKE_CREDENTIALS
    )
    second = cognito.create_user_pool(PoolName="second")["UserPool"]["Id"]
    pools = [
        CognitoIdpUserPool("123456789012", aws.region, "third", {}),
        CognitoIdpUserPool("123456789012", aws.region, "fourth", {}),
    ]
    assert pools[0].json_web_key is pools[1].json_web_key  # imported once
    moto_own = jwk.RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
    assert pools[0].json_web_key.as_dict() == moto_own.as_dict()  # and it is moto's key
    for pool_id in (aws.user_pool_id, second):  # both pools publish it, as moto does
        with urllib.request.urlopen(f"{aws.endpoint_url}/{pool_id}/.well-known/jwks.json") as r:  # noqa: S310 - loopback
            published = json.loads(r.read())["keys"][0]
        assert published["n"] == moto_own.as_dict(private=False)["n"]


def test_tuning_refuses_a_moto_whose_pool_key_import_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.cognitoidp.models import CognitoIdpUserPool

    def init(self: Any, account_id: Any, region: Any, name: Any, extended_config: Any) -> None:
        raise AssertionError("never called: the key is made another way")

    monkeypatch.setattr(CognitoIdpUserPool, "__init__", init)
    monkeypatch.setattr(tasks.local.aws, "_tuned", False)
    with pytest.raises(MotoPatchError) as refused:
        tune_moto()
    assert "a Cognito user pool no longer imports its signing key" in str(refused.value)
    assert tasks.local.aws._tuned is False


def test_the_trigger_hook_refuses_a_moto_whose_confirmation_changed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.cognitoidp.models import CognitoIdpBackend

    hooked = ("confirm_sign_up", "admin_confirm_sign_up", "admin_set_user_password")
    for name in hooked:  # put back whatever happens
        monkeypatch.setattr(CognitoIdpBackend, name, getattr(CognitoIdpBackend, name))
    before = {name: getattr(CognitoIdpBackend, name) for name in hooked}

    def confirm_sign_up(self: Any, client_id: str, username: str, session: Any) -> str:
        raise AssertionError("never called")

    monkeypatch.setattr(CognitoIdpBackend, "confirm_sign_up", confirm_sign_up)
    monkeypatch.delattr(CognitoIdpBackend, "admin_set_user_password")
    with pytest.raises(MotoPatchError) as refused:
        hook_post_confirmation(lambda event: None)
    message = str(refused.value)
    assert "CognitoIdpBackend.confirm_sign_up(self, client_id, username, session)" in message
    assert "CognitoIdpBackend.admin_set_user_password: not found" in message
    assert CognitoIdpBackend.confirm_sign_up is confirm_sign_up, "nothing is patched"
    assert CognitoIdpBackend.admin_confirm_sign_up is before["admin_confirm_sign_up"]


# -- moto's own process ------------------------------------------------------------------------
class _InvokeRecorder(BaseHTTPRequestHandler):
    """A Lambda Invoke endpoint that records events and answers as the server says."""

    def do_POST(self) -> None:
        server: Any = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.calls.append((self.path, body))
        self.send_response(200)
        if server.fail:
            self.send_header("X-Amz-Function-Error", "Unhandled")
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def invoke_endpoint() -> Iterator[Any]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _InvokeRecorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def moto_process(
    tmp_path_factory: pytest.TempPathFactory, invoke_endpoint: Any
) -> Iterator[MotoProcess]:
    process = MotoProcess(
        "127.0.0.1",
        0,
        tmp_path_factory.mktemp("moto"),
        post_confirmation_url=invoke_endpoint.url,
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def pool(moto_process: MotoProcess) -> LocalResources:
    return bootstrap(moto_process.url, region=REGION)


@pytest.fixture
def lambda_endpoint(invoke_endpoint: Any) -> Any:
    """The Lambda Invoke endpoint moto calls, with no calls recorded and answering success."""
    invoke_endpoint.calls = []
    invoke_endpoint.fail = False
    return invoke_endpoint


def _sign_up(resources: LocalResources, email: str) -> Any:
    cognito = _client("cognito-idp", resources.endpoint_url)
    cognito.sign_up(
        ClientId=resources.client_id,
        Username=email,
        Password="Sign-up-Pass-1!",
        UserAttributes=[{"Name": "email", "Value": email}, {"Name": "name", "Value": "Ada"}],
    )
    return cognito


def test_confirming_a_sign_up_runs_the_trigger_before_answering(
    pool: LocalResources, lambda_endpoint: Any
) -> None:
    cognito = _sign_up(pool, "ada@example.com")
    assert lambda_endpoint.calls == []
    cognito.confirm_sign_up(
        ClientId=pool.client_id,
        Username="ada@example.com",
        ConfirmationCode=latest_code(pool.endpoint_url, "ada@example.com"),
    )
    [(path, event)] = lambda_endpoint.calls
    assert path == "/2015-03-31/functions/post_confirmation/invocations"
    assert event["triggerSource"] == "PostConfirmation_ConfirmSignUp"
    assert event["userPoolId"] == pool.user_pool_id
    assert event["callerContext"]["clientId"] == pool.client_id
    assert event["request"]["userAttributes"]["email"] == "ada@example.com"
    assert event["request"]["userAttributes"]["name"] == "Ada"
    assert event["request"]["userAttributes"]["cognito:user_status"] == "CONFIRMED"


def test_an_admin_confirmation_runs_the_trigger_too(
    pool: LocalResources, lambda_endpoint: Any
) -> None:
    cognito = _sign_up(pool, "bo@example.com")
    cognito.admin_confirm_sign_up(UserPoolId=pool.user_pool_id, Username="bo@example.com")
    [(_, event)] = lambda_endpoint.calls
    user = cognito.admin_get_user(UserPoolId=pool.user_pool_id, Username="bo@example.com")
    assert event["userName"] == user["Username"]  # the pool signs in by e-mail: a uuid
    assert event["request"]["userAttributes"]["email"] == "bo@example.com"
    assert event["callerContext"]["clientId"] == pool.client_id


def test_the_trigger_runs_once_per_user_however_often_it_is_confirmed(
    pool: LocalResources, lambda_endpoint: Any
) -> None:
    cognito = _sign_up(pool, "di@example.com")
    code = latest_code(pool.endpoint_url, "di@example.com")
    cognito.confirm_sign_up(
        ClientId=pool.client_id, Username="di@example.com", ConfirmationCode=code
    )
    with pytest.raises(cognito.exceptions.NotAuthorizedException, match="CONFIRMED"):
        cognito.confirm_sign_up(
            ClientId=pool.client_id, Username="di@example.com", ConfirmationCode=code
        )
    cognito.admin_confirm_sign_up(UserPoolId=pool.user_pool_id, Username="di@example.com")
    assert [e["request"]["userAttributes"]["email"] for _, e in lambda_endpoint.calls] == [
        "di@example.com"
    ]


def test_concurrent_confirmations_run_the_trigger_once(
    pool: LocalResources, lambda_endpoint: Any
) -> None:
    _sign_up(pool, "ed@example.com")
    code = latest_code(pool.endpoint_url, "ed@example.com")
    outcomes: list[str] = []

    def confirm() -> None:
        try:
            _client("cognito-idp", pool.endpoint_url).confirm_sign_up(
                ClientId=pool.client_id, Username="ed@example.com", ConfirmationCode=code
            )
            outcomes.append("confirmed")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=confirm) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(lambda_endpoint.calls) == 1
    assert outcomes.count("confirmed") == 1, outcomes  # the code is used once


def test_a_user_an_admin_gives_a_permanent_password_gets_the_trigger_once(
    pool: LocalResources, lambda_endpoint: Any
) -> None:
    """Cognito runs no trigger here; the local stack does, so admin-made users (the demo user,
    test users) have a profile as a signed-up user has — before AdminSetUserPassword answers."""
    cognito = _client("cognito-idp", pool.endpoint_url)
    cognito.admin_create_user(
        UserPoolId=pool.user_pool_id,
        Username="fay@example.com",
        UserAttributes=[{"Name": "email", "Value": "fay@example.com"}],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=pool.user_pool_id,
        Username="fay@example.com",
        Password="Temporary-Pass-1!",
        Permanent=False,
    )
    assert lambda_endpoint.calls == []
    for password in ("Permanent-Pass-1!", "Permanent-Pass-2!"):
        cognito.admin_set_user_password(
            UserPoolId=pool.user_pool_id,
            Username="fay@example.com",
            Password=password,
            Permanent=True,
        )
    [(_, event)] = lambda_endpoint.calls
    assert event["request"]["userAttributes"]["email"] == "fay@example.com"
    assert event["triggerSource"] == "PostConfirmation_ConfirmSignUp"


def test_a_failing_trigger_leaves_the_user_confirmed(
    moto_process: MotoProcess, pool: LocalResources, lambda_endpoint: Any
) -> None:
    lambda_endpoint.fail = True
    cognito = _sign_up(pool, "cy@example.com")
    cognito.confirm_sign_up(
        ClientId=pool.client_id,
        Username="cy@example.com",
        ConfirmationCode=latest_code(pool.endpoint_url, "cy@example.com"),
    )
    user = cognito.admin_get_user(UserPoolId=pool.user_pool_id, Username="cy@example.com")
    assert user["UserStatus"] == "CONFIRMED"
    assert len(lambda_endpoint.calls) == 1
    assert "post confirmation for cy@example.com failed" in moto_process.log_path.read_text()


# -- the local mailbox: the codes Cognito would e-mail, checked --------------------------------
def _error(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return str(caught.value.response["Error"]["Code"])


def test_a_sign_up_code_is_mailed_and_only_that_code_confirms(
    pool: LocalResources, lambda_endpoint: Any
) -> None:
    cognito = _sign_up(pool, "gil@example.com")
    [message] = read_mailbox(pool.endpoint_url, "GIL@example.com")
    assert message["kind"] == "verification"
    assert message["code"].isdigit()
    assert len(message["code"]) == 6
    assert message["body"] == f"Your verification code is {message['code']}."
    wrong = f"{(int(message['code']) + 1) % 1_000_000:06d}"
    confirm = functools.partial(
        cognito.confirm_sign_up, ClientId=pool.client_id, Username="gil@example.com"
    )
    assert _error(confirm, ConfirmationCode=wrong) == "CodeMismatchException"
    assert _error(confirm, ConfirmationCode=" ") == "CodeMismatchException"
    user = cognito.admin_get_user(UserPoolId=pool.user_pool_id, Username="gil@example.com")
    assert user["UserStatus"] == "UNCONFIRMED"
    assert lambda_endpoint.calls == []
    confirm(ConfirmationCode=message["code"])
    assert len(lambda_endpoint.calls) == 1


def test_the_id_token_carries_the_attributes_the_client_reads(
    pool: LocalResources, lambda_endpoint: Any
) -> None:
    """As the Terraform client (read_attributes): the app greets by the token's name at once."""
    import jwt

    cognito = _sign_up(pool, "una@example.com")
    code = latest_code(pool.endpoint_url, "una@example.com")
    cognito.confirm_sign_up(
        ClientId=pool.client_id, Username="una@example.com", ConfirmationCode=code
    )
    tokens = cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "una@example.com", "PASSWORD": "Sign-up-Pass-1!"},
    )["AuthenticationResult"]
    claims = jwt.decode(tokens["IdToken"], options={"verify_signature": False})
    assert (claims["name"], claims["email"]) == ("Ada", "una@example.com")


def test_a_new_code_replaces_the_old_one(pool: LocalResources, lambda_endpoint: Any) -> None:
    cognito = _sign_up(pool, "hal@example.com")
    first = latest_code(pool.endpoint_url, "hal@example.com")
    sent = cognito.resend_confirmation_code(ClientId=pool.client_id, Username="hal@example.com")
    assert sent["CodeDeliveryDetails"] == {
        "Destination": "h***@e***",
        "DeliveryMedium": "EMAIL",
        "AttributeName": "email",
    }
    second = latest_code(pool.endpoint_url, "hal@example.com")
    assert len(read_mailbox(pool.endpoint_url, "hal@example.com")) == 2
    confirm = functools.partial(
        cognito.confirm_sign_up, ClientId=pool.client_id, Username="hal@example.com"
    )
    if first != second:
        assert _error(confirm, ConfirmationCode=first) == "CodeMismatchException"
    confirm(ConfirmationCode=second)
    resend = functools.partial(cognito.resend_confirmation_code, ClientId=pool.client_id)
    assert _error(resend, Username="hal@example.com") == "InvalidParameterException"
    # nobody learns who has an account: an unknown address gets the same answer, and no mail
    unknown = resend(Username="nobody@example.com")["CodeDeliveryDetails"]
    assert unknown["Destination"] == "n***@e***"
    assert read_mailbox(pool.endpoint_url, "nobody@example.com") == []


def test_a_password_reset_needs_the_mailed_code_and_a_strong_password(
    pool: LocalResources, lambda_endpoint: Any
) -> None:
    cognito = _sign_up(pool, "ivy@example.com")
    code = latest_code(pool.endpoint_url, "ivy@example.com")
    cognito.confirm_sign_up(
        ClientId=pool.client_id, Username="ivy@example.com", ConfirmationCode=code
    )
    cognito.forgot_password(ClientId=pool.client_id, Username="ivy@example.com")
    reset = latest_code(pool.endpoint_url, "ivy@example.com", kind="reset")
    change = functools.partial(
        cognito.confirm_forgot_password, ClientId=pool.client_id, Username="ivy@example.com"
    )
    wrong = f"{(int(reset) + 1) % 1_000_000:06d}"
    assert _error(change, ConfirmationCode=wrong, Password="New-Pass-word-1!") == (
        "CodeMismatchException"
    )
    assert _error(change, ConfirmationCode=reset, Password="weak") == "InvalidPasswordException"
    change(ConfirmationCode=reset, Password="New-Pass-word-1!")
    assert _error(change, ConfirmationCode=reset, Password="New-Pass-word-2!") == (
        "CodeMismatchException"  # used once
    )
    cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ivy@example.com", "PASSWORD": "New-Pass-word-1!"},
    )


def test_an_invitation_mails_a_temporary_password_that_signs_in(
    pool: LocalResources, lambda_endpoint: Any
) -> None:
    cognito = _client("cognito-idp", pool.endpoint_url)
    cognito.admin_create_user(
        UserPoolId=pool.user_pool_id,
        Username="jo@example.com",
        UserAttributes=[{"Name": "email", "Value": "jo@example.com"}],
    )
    [invitation] = read_mailbox(pool.endpoint_url, "jo@example.com")
    assert invitation["kind"] == "invitation"
    assert invitation["body"] == (
        f"Your username is jo@example.com and temporary password is {invitation['code']}."
    )
    answer = cognito.initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "jo@example.com", "PASSWORD": invitation["code"]},
    )
    assert answer["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    cognito.admin_create_user(
        UserPoolId=pool.user_pool_id, Username="jo@example.com", MessageAction="RESEND"
    )
    assert len(read_mailbox(pool.endpoint_url, "jo@example.com")) == 2
    cognito.admin_create_user(
        UserPoolId=pool.user_pool_id,
        Username="kim@example.com",
        UserAttributes=[{"Name": "email", "Value": "kim@example.com"}],
        MessageAction="SUPPRESS",
    )
    assert read_mailbox(pool.endpoint_url, "kim@example.com") == []


# -- local data kept across restarts ------------------------------------------------------------
def test_a_restarted_moto_has_the_users_items_tokens_and_mail_of_the_last_run(
    tmp_path: Path, lambda_endpoint: Any
) -> None:
    state = tmp_path / "state" / "moto.pickle"
    # as the stack runs it: state machines executed by moto's interpreter (its own backend)
    hooks = {"post_confirmation_url": lambda_endpoint.url}
    process = MotoProcess("127.0.0.1", 0, tmp_path, state_file=state, **hooks)
    process.start()
    try:
        assert process.restored is False
        first = bootstrap(process.url, region=REGION)
        cognito = _sign_up(first, "lou@example.com")
        code = latest_code(first.endpoint_url, "lou@example.com")
        cognito.confirm_sign_up(
            ClientId=first.client_id, Username="lou@example.com", ConfirmationCode=code
        )
        tokens = cognito.initiate_auth(
            ClientId=first.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "lou@example.com", "PASSWORD": "Sign-up-Pass-1!"},
        )["AuthenticationResult"]
        _client("dynamodb", process.url).put_item(
            TableName=first.chat_table, Item=_item("CONV#1", "META", title="kept")
        )
        # a state machine: moto keeps Step Functions in two backends of one service name
        machine = _client("stepfunctions", process.url).create_state_machine(
            name="kept",
            definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}),
            roleArn="arn:aws:iam::123456789012:role/kept",
        )["stateMachineArn"]
    finally:
        process.stop()
    assert state.exists()

    again = MotoProcess("127.0.0.1", 0, tmp_path, state_file=state, **hooks)
    again.start()
    try:
        assert again.restored is True
        second = bootstrap(again.url, region=REGION)  # finds what is there, creates nothing
        assert (second.user_pool_id, second.client_id) == (first.user_pool_id, first.client_id)
        assert second.table_names == first.table_names
        item = _client("dynamodb", again.url).get_item(
            TableName=second.chat_table, Key={"pk": {"S": "CONV#1"}, "sk": {"S": "META"}}
        )["Item"]
        assert item["title"] == {"S": "kept"}
        cognito = _client("cognito-idp", again.url)
        assert cognito.get_user(AccessToken=tokens["AccessToken"])["Username"]
        refreshed = cognito.initiate_auth(
            ClientId=second.client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": tokens["RefreshToken"]},
        )["AuthenticationResult"]
        assert refreshed["IdToken"]
        assert [m["code"] for m in read_mailbox(again.url, "lou@example.com")] == [code]
        listed = _client("stepfunctions", again.url).list_state_machines()["stateMachines"]
        assert [m["stateMachineArn"] for m in listed] == [machine]
        # mail sent after the restart reaches the same mailbox, and is kept at the next stop
        _sign_up(second, "max@example.com")
        assert len(read_mailbox(again.url, "max@example.com")) == 1
    finally:
        again.stop()
    third = MotoProcess("127.0.0.1", 0, tmp_path, state_file=state, **hooks)
    third.start()
    try:
        assert len(read_mailbox(third.url, "max@example.com")) == 1
        assert [m["code"] for m in read_mailbox(third.url, "lou@example.com")] == [code]
    finally:
        third.stop()


def test_saved_state_from_another_moto_is_refused_with_what_to_do(tmp_path: Path) -> None:
    import pickle

    from tasks.local.snapshot import SnapshotError, load

    state = tmp_path / "moto.pickle"
    state.write_bytes(pickle.dumps({"format": 1, "moto": "0.0.1", "python": "3.12"}))
    with pytest.raises(SnapshotError, match=r"moto 0\.0\.1.*invoke dev --fresh"):
        load(state)
    state.write_bytes(b"not a pickle")
    with pytest.raises(SnapshotError, match=r"cannot be read.*invoke dev --fresh"):
        load(state)
    assert load(tmp_path / "none.pickle") is None


def test_stop_ends_the_process_and_frees_the_port(tmp_path: Path) -> None:
    process = MotoProcess("127.0.0.1", 0, tmp_path)
    url = process.start()
    port = int(url.rsplit(":", 1)[1])
    process.stop()
    bind("127.0.0.1", port, "moto").close()  # would raise PortInUse if moto still listened


def test_a_taken_port_is_reported_with_moto_s_own_words(tmp_path: Path) -> None:
    taken = bind("127.0.0.1", 0, "a test")
    try:
        with pytest.raises(MotoStartError, match="moto did not start") as caught:
            MotoProcess("127.0.0.1", port_of(taken), tmp_path, start_timeout=30).start()
        assert "Address already in use" in str(caught.value)
    finally:
        taken.close()


def test_stacks_sharing_a_log_folder_each_get_their_own_moto(tmp_path: Path) -> None:
    """Stacks started at once with one log folder (the browser suite's halves): each reads its
    own moto's address, never the other's, so stopping one leaves the other serving. Both wait
    for their moto at the same time, so a shared ready file would hand one of them the other's
    address about half the time: three rounds."""
    for _ in range(3):
        processes = [MotoProcess("127.0.0.1", 0, tmp_path) for _ in range(2)]
        threads = [threading.Thread(target=p.start) for p in processes]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(90)
            assert processes[0].url
            assert processes[1].url != processes[0].url
            processes[0].stop()
            sts = boto3.client(
                "sts", endpoint_url=processes[1].url, region_name=REGION, **FAKE_CREDENTIALS
            )
            assert sts.get_caller_identity()["Account"]
        finally:
            for process in processes:
                process.stop()
