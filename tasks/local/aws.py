"""moto in its own process, tuned for a chat workload.

    python -m tasks.local.aws --ready-file PATH [--host H] [--port P] [--post-confirmation URL]
        [--answering-triggers]

The stack runs AWS here rather than in its own process, so moto and the gateway each get a core
instead of sharing one interpreter lock. `tune_moto()` (also used by the test fixtures) removes
three costs and one race that a busy room hits in moto 5.x, without changing what any call
answers:

- TransactWriteItems deep-copies every table it touches, to roll back on failure. The copy grows
  with the table (all of a chat's history), so each message got slower than the last. Here the
  transaction saves only the items it names and puts exactly those back, and takes the stream
  records of a cancelled transaction back too (moto keeps them; DynamoDB never writes them).
- A Query on a table's own key sorts every item of the table to find one partition; here it
  reads just that partition (moto keeps items by partition already).
- Every request lists moto's package directory to learn the service names; the list is cached.
- moto serialises every answer by walking botocore's model of it, value by value: over a third
  of its time on a chat's item reads and writes. DynamoDB's item operations answer with the
  JSON of the result as it is (`_dynamodb_json`) whenever that is what the walk would give:
  plain JSON values, no binary attribute, nothing to convert.
- Cognito imports its token-signing key again for every user pool (the same key each time,
  whose RSA primes are recovered on import: 0.14 s of CPU a pool, and the tests make a pool a
  test). Here it is imported once and shared; the tokens are signed alike.
- DynamoDB requests run one at a time. DynamoDB makes each item write atomic, and the
  transaction's roll-back must not undo a write that another thread made in between.
- Cognito runs no Lambda triggers in moto: with `--post-confirmation URL`, the confirmations
  call that Lambda Invoke endpoint synchronously, once per user (`hook_post_confirmation`); with
  `--answering-triggers` too, sign-ups, ID tokens and e-mails call the pre-sign-up,
  pre-token-generation and custom-message functions where Cognito would
  (`tasks.local.cognito_triggers.hook_cognito_triggers`).
- Cognito's e-mailed codes and its two-step verification (TOTP) are checked as Cognito checks
  them, where moto accepts anything (`tasks.local.cognito_mail`, `tasks.local.cognito_mfa`).

These patches reach into moto's internals, so moto is pinned exactly (`MOTO_VERSION`, the
version in pyproject.toml) and every function they wrap or call positionally is checked against
the signature they were written for before anything is patched: another moto refuses to start
with a message naming the function and both versions (`MotoPatchError`). The repository tests
also run against moto as shipped (`tests/integration/test_moto_as_shipped.py`), so a patch that
changes an answer cannot hide.
"""

from __future__ import annotations

import argparse
import copy
import functools
import importlib
import inspect
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import types
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DYNAMODB_TARGET = "DynamoDB_"
"""X-Amz-Target prefix of every DynamoDB call."""

log = logging.getLogger("parley.local.aws")
_tuned = False


class MotoStartError(Exception):
    """moto's process did not come up; the message says why."""


# -- what the patches rely on ---------------------------------------------------------------------
MOTO_VERSION = "5.2.5"
"""The moto the patches below were written against; pyproject.toml pins exactly this one."""


class MotoPatchError(RuntimeError):
    """The installed moto is not shaped as a patch below expects; nothing was patched."""


@dataclass(frozen=True)
class Expected:
    """A moto function a patch wraps or calls with positional arguments, and its parameters
    (annotations aside) as `MOTO_VERSION` has them."""

    module: str
    name: str
    """Dotted inside the module: `Table.query`."""
    signature: str

    def resolve(self) -> Any:
        found: Any = importlib.import_module(self.module)
        for part in self.name.split("."):
            found = getattr(found, part)
        return found


TUNED = (
    Expected("moto.backends", "list_of_moto_modules", "()"),
    Expected(
        "moto.dynamodb.models", "DynamoDBBackend.transact_write_items", "(self, transact_items)"
    ),
    Expected(
        "moto.dynamodb.models.table",
        "Table.get_item",
        "(self, hash_key, range_key=None, projection_expression=None)",
    ),
    Expected(
        "moto.dynamodb.models.table",
        "Table.query",
        "(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,"
        " scan_index_forward, projection_expressions, index_name=None, consistent_read=False,"
        " filter_expression=None, hash_key_conditions=None, range_key_conditions=None,"
        " **filter_kwargs)",
    ),
    Expected("moto.dynamodb.models.table", "Table.all_items", "(self)"),
    Expected("moto.core.responses", "ActionResult.execute_result", "(self, context)"),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpUserPool.__init__",
        "(self, account_id, region, name, extended_config)",
    ),
    Expected("joserfc.jwk", "RSAKey.import_key", "(value, parameters=None, password=None)"),
    Expected(
        "moto.moto_server.werkzeug_app",
        "DomainDispatcherApplication.__call__",
        "(self, environ, start_response)",
    ),
)
"""What `tune_moto` wraps or calls."""

COGNITO_HOOKED = (
    Expected(
        "moto.cognitoidp.models", "CognitoIdpBackend.confirm_sign_up", "(self, client_id, username)"
    ),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.admin_confirm_sign_up",
        "(self, user_pool_id, username)",
    ),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.admin_set_user_password",
        "(self, user_pool_id, username, password, permanent)",
    ),
    Expected(
        "moto.cognitoidp.models",
        "CognitoIdpBackend.admin_get_user",
        "(self, user_pool_id, username)",
    ),
)
"""What `hook_post_confirmation` wraps or calls."""


def parameters(function: Callable[..., Any]) -> str:
    """A function's parameters as `Expected.signature` writes them: names, kinds and defaults.
    A wrapper made with `functools.wraps` reports the function it wraps."""
    signature = inspect.signature(function)
    bare = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    return str(signature.replace(parameters=bare, return_annotation=inspect.Signature.empty))


def check_moto(expected: Iterable[Expected]) -> None:
    """Raise MotoPatchError, naming every difference, unless moto has each expected signature."""
    import moto

    problems = []
    for item in expected:
        try:
            found = parameters(item.resolve())
        except (AttributeError, ImportError, TypeError, ValueError) as exc:
            problems.append(f"  {item.module}.{item.name}: not found ({exc})")
            continue
        if found != item.signature:
            problems.append(
                f"  {item.module}.{item.name}{found}\n    expected {item.name}{item.signature}"
            )
    if problems:
        raise MotoPatchError(
            f"moto {moto.__version__} is installed, but tasks/local/aws.py patches moto"
            f" {MOTO_VERSION} internals and these differ:\n" + "\n".join(problems) + "\n"
            "Review each patch against the new moto (and run tests/integration/"
            "test_moto_as_shipped.py) before changing the moto pin in pyproject.toml."
        )


def _check_transaction_copy() -> None:
    """The item-level transaction replaces the `copy` module moto's DynamoDB backend imports."""
    import moto
    from moto.dynamodb import models

    if getattr(models, "copy", None) not in (copy, _TABLE_COPY):
        raise MotoPatchError(
            f"moto {moto.__version__}: moto.dynamodb.models no longer imports `copy` as moto"
            f" {MOTO_VERSION} did; review tasks/local/aws.py before changing the moto pin."
        )


def _check_pool_key_import() -> None:
    """The shared pool key replaces the `jwk` module moto's Cognito imports from joserfc."""
    import moto
    from joserfc import jwk
    from moto.cognitoidp import models

    source = inspect.getsource(models.CognitoIdpUserPool.__init__)
    if getattr(models, "jwk", None) not in (jwk, _POOL_KEYS) or (
        "jwk.RSAKey.import_key(jwks_file)" not in source
    ):
        raise MotoPatchError(
            f"moto {moto.__version__}: a Cognito user pool no longer imports its signing key"
            f" as moto {MOTO_VERSION} did; review tasks/local/aws.py before changing the moto pin."
        )


# -- tuning --------------------------------------------------------------------------------------
def tune_moto() -> None:
    """Apply the tuning described in the module docstring (once per process), after checking
    that moto still has every signature it relies on (MotoPatchError: nothing is patched)."""
    global _tuned
    if _tuned:
        return
    check_moto(TUNED)
    _check_transaction_copy()
    _check_pool_key_import()
    _cache_module_list()
    _one_pool_key()
    _item_level_transactions()
    _partition_queries()
    _serialize_dynamodb()
    _fast_dynamodb_json()
    _tuned = True


class _SharedKeys:
    """joserfc's `jwk` module as moto's Cognito sees it: each key document is imported once."""

    def __init__(self) -> None:
        from joserfc import jwk

        self._module = jwk
        self._imported: dict[str, Any] = {}
        shared = self

        class RSAKey(jwk.RSAKey):  # isinstance and every other use as joserfc's own
            @classmethod
            def import_key(cls, value: Any, parameters: Any = None, password: Any = None) -> Any:
                return shared._import_rsa(value, parameters, password)

        self.RSAKey = RSAKey

    def _import_rsa(self, value: Any, parameters: Any = None, password: Any = None) -> Any:
        if parameters is not None or password is not None or not isinstance(value, dict):
            return self._module.RSAKey.import_key(value, parameters, password)
        document = json.dumps(value, sort_keys=True)
        if document not in self._imported:
            self._imported[document] = self._module.RSAKey.import_key(value)
        return self._imported[document]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


_POOL_KEYS: Any = None


def _one_pool_key() -> None:
    global _POOL_KEYS
    from moto.cognitoidp import models

    if _POOL_KEYS is None:
        _POOL_KEYS = _SharedKeys()
    setattr(models, "jwk", _POOL_KEYS)  # noqa: B010 - moto's own name


def _cache_module_list() -> None:
    from moto import backends

    modules = frozenset(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules


class _TableCopyByReference(types.SimpleNamespace):
    """`copy` as moto's DynamoDB models see it: a whole table is kept by reference instead of
    deep-copied (the transaction wrapper below saves and restores the items it touches)."""

    def __init__(self, table_type: type) -> None:
        super().__init__(copy=copy.copy)
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, self._table_type):
            return value
        return copy.deepcopy(value, memo)


_TABLE_COPY: _TableCopyByReference | None = None


def _item_level_transactions() -> None:
    global _TABLE_COPY
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    _TABLE_COPY = _TableCopyByReference(Table)
    setattr(models, "copy", _TABLE_COPY)  # noqa: B010 - moto's own name
    original = models.DynamoDBBackend.transact_write_items

    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved = _save_items(self, transact_items)
        # moto applies the items before a failing one (and after it) to the table and its
        # stream, then rolls the table back; a cancelled transaction must leave no stream
        # record either, as in DynamoDB.
        shards = {id(t): t.stream_shard for t, *_ in saved if t.stream_shard is not None}
        marks = [(shard, len(shard.items)) for shard in shards.values()]
        try:
            original(self, transact_items)
        except BaseException:
            for table, hash_key, range_key, item in saved:
                _restore_item(table, hash_key, range_key, item)
            for shard, mark in marks:
                del shard.items[mark:]
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _save_items(backend: Any, transact_items: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """(table, hash key, range key, a copy of the item or None) for every item a transaction
    names; an operation moto will refuse anyway (unknown table, missing key) is skipped."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    saved: dict[tuple[str, Any, Any], tuple[Any, ...]] = {}
    for entry in transact_items:
        if len(entry) != 1:
            continue
        op = next(iter(entry.values()))
        table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        key = op.get("Key") or op.get("Item") or {}
        try:
            hash_key = DynamoType(key[table.hash_key_attr])
            range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            current = table.get_item(hash_key, range_key)
        except Exception:  # noqa: BLE001, S112 - moto reports the malformed operation itself
            continue
        saved.setdefault(
            (table.name, hash_key, range_key),
            (table, hash_key, range_key, copy.deepcopy(current)),
        )
    return list(saved.values())


def _restore_item(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    if item is None:
        if range_key is not None:
            table.items.get(hash_key, {}).pop(range_key, None)
        else:
            table.items.pop(hash_key, None)
    elif range_key is not None:
        table.items[hash_key][range_key] = item
    else:
        table.items[hash_key] = item


def _partition_queries() -> None:
    from moto.dynamodb.models.table import Table

    original_query = Table.query
    original_all_items = Table.all_items
    # where index_name falls among the arguments after hash_key (checked by check_moto)
    index_position = list(inspect.signature(original_query).parameters).index("index_name") - 2

    @functools.wraps(original_query)
    def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        index = kwargs.get(
            "index_name", args[index_position] if len(args) > index_position else None
        )
        if index is not None or hash_key is None:
            return original_query(self, hash_key, *args, **kwargs)
        self._partition = hash_key  # DynamoDB calls run one at a time (_serialize_dynamodb)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            del self._partition

    @functools.wraps(original_all_items)
    def all_items(self: Any) -> Any:
        partition = self.__dict__.get("_partition")
        if partition is None:
            return original_all_items(self)
        found = self.items.get(partition)
        if found is None:
            return []
        if self.range_key_attr:
            return sorted(found.values(), key=lambda item: item.range_key)
        return [found]

    Table.query = query  # type: ignore[method-assign]
    Table.all_items = all_items  # type: ignore[method-assign]


def _serialize_dynamodb() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    lock = threading.Lock()
    original = DomainDispatcherApplication.__call__

    @functools.wraps(original)
    def __call__(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(DYNAMODB_TARGET):
            with lock:
                return original(self, environ, start_response)
        return original(self, environ, start_response)

    DomainDispatcherApplication.__call__ = __call__  # type: ignore[method-assign]


FAST_JSON_OPERATIONS = frozenset(
    {
        "GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
        "BatchWriteItem", "TransactGetItems", "TransactWriteItems",
    }
)  # fmt: skip
"""The DynamoDB operations answered by `_dynamodb_json`: items, keys, counts and capacity."""
_BINARY = frozenset({"B", "BS"})
_GENERIC_EXECUTE_RESULT: Callable[..., Any] | None = None
"""moto's own `ActionResult.execute_result`, which `_fast_dynamodb_json` wraps."""


def _plain(value: Any) -> bool:
    """JSON as it is: no None to drop, no binary attribute to encode, nothing else to convert."""
    if isinstance(value, dict):
        return all(
            isinstance(key, str) and key not in _BINARY and _plain(item)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return all(_plain(item) for item in value)
    return isinstance(value, str | bool | int | float)


def _dynamodb_json(operation: str, result: Any, members: Collection[str]) -> str | None:
    """The body moto's serialiser gives `result` of a DynamoDB `operation` whose answer has
    these `members`, written directly (like the serialiser, it leaves out what the answer does
    not define); None where that is not certain (another operation, values it would convert)."""
    if operation not in FAST_JSON_OPERATIONS or not isinstance(result, dict) or not _plain(result):
        return None
    return json.dumps({key: value for key, value in result.items() if key in members})


def _fast_dynamodb_json() -> None:
    global _GENERIC_EXECUTE_RESULT
    from moto import settings
    from moto.core.responses import ActionResult

    original = ActionResult.execute_result
    _GENERIC_EXECUTE_RESULT = original
    if settings.PRETTIFY_RESPONSES:  # indented answers (MOTO_PRETTIFY_RESPONSES): moto writes
        return

    @functools.wraps(original)
    def execute_result(self: Any, context: Any) -> Any:
        if context.service_model.service_name == "dynamodb":
            operation = context.operation_model
            body = _dynamodb_json(str(operation.name), self.result, operation.output_shape.members)
            if body is not None:
                return 200, {"Content-Type": "application/x-amz-json-1.0"}, body
        return original(self, context)

    ActionResult.execute_result = execute_result  # type: ignore[method-assign]


# -- Cognito's post-confirmation trigger ---------------------------------------------------------
TRIGGERED = "_parley_post_confirmed"
"""The attribute of a moto user set once its post-confirmation trigger has run."""


def hook_post_confirmation(invoke: Callable[[dict[str, Any]], None]) -> None:
    """Run Cognito's post-confirmation trigger, `invoke(event)`, inside the call that confirms
    a user and before it answers, as Cognito does — once per user:

    - ConfirmSignUp and AdminConfirmSignUp, where Cognito runs it. moto accepts a repeated
      confirmation (Cognito refuses one); the trigger does not run again.
    - AdminSetUserPassword with `Permanent`, where Cognito runs none: users an admin makes (the
      demo user, test users) get a profile as a signed-up user does.

    Whether a call confirmed a user not yet triggered is decided under one lock, so concurrent
    confirmations trigger once. A failing trigger is logged and the user stays confirmed
    (Cognito would report it to the caller, moto cannot)."""
    check_moto(COGNITO_HOOKED)
    from moto.cognitoidp.models import CognitoIdpBackend, UserStatus

    from tasks.local.cognito_triggers import confirmation_event

    lock = threading.Lock()

    def once(
        backend: Any, pool_id: str, client_id: str | None, username: str, call: Callable[[], Any]
    ) -> Any:
        """Run moto's `call`; then the trigger, if that call confirmed a user not triggered yet."""
        with lock:
            result = call()
            user = backend.admin_get_user(pool_id, username)
            # kept on the user, so a saved and restored moto (tasks.local.snapshot) remembers it
            first = user.status is UserStatus.CONFIRMED and not user.__dict__.get(TRIGGERED)
            if first:
                user.__dict__[TRIGGERED] = True
        if first:
            listed = {"Username": user.username, "Attributes": list(user.attributes)}
            client = client_id or next(iter(backend.user_pools[pool_id].clients), "")
            try:
                invoke(confirmation_event(pool_id, client, backend.region_name, listed))
            except Exception as exc:  # noqa: BLE001 - reported, never fatal to the confirmation
                log.warning("post confirmation for %s failed: %s", username, exc)
        return result

    original_confirm = CognitoIdpBackend.confirm_sign_up
    original_admin_confirm = CognitoIdpBackend.admin_confirm_sign_up
    original_set_password = CognitoIdpBackend.admin_set_user_password

    @functools.wraps(original_confirm)
    def confirm_sign_up(backend: Any, client_id: str, username: str) -> str:
        pool = next((p for p in backend.user_pools.values() if client_id in p.clients), None)
        if pool is None:  # moto answers ResourceNotFound
            return original_confirm(backend, client_id, username)
        return str(
            once(
                backend,
                pool.id,
                client_id,
                username,
                lambda: original_confirm(backend, client_id, username),
            )
        )

    @functools.wraps(original_admin_confirm)
    def admin_confirm_sign_up(backend: Any, user_pool_id: str, username: str) -> str:
        return str(
            once(
                backend,
                user_pool_id,
                None,
                username,
                lambda: original_admin_confirm(backend, user_pool_id, username),
            )
        )

    @functools.wraps(original_set_password)
    def admin_set_user_password(
        backend: Any, user_pool_id: str, username: str, password: str, permanent: bool
    ) -> None:
        once(
            backend,
            user_pool_id,
            None,
            username,
            lambda: original_set_password(backend, user_pool_id, username, password, permanent),
        )

    CognitoIdpBackend.confirm_sign_up = confirm_sign_up  # type: ignore[method-assign,assignment]
    CognitoIdpBackend.admin_confirm_sign_up = admin_confirm_sign_up  # type: ignore[method-assign,assignment]
    CognitoIdpBackend.admin_set_user_password = admin_set_user_password  # type: ignore[method-assign,assignment]


def lambda_invoker(
    lambda_url: str, function: str, timeout: float = 70.0
) -> Callable[[dict[str, Any]], None]:
    """A synchronous Lambda Invoke (RequestResponse) of `function` at `lambda_url`, once. The
    timeout covers a cold start, which the local runtime allows 60 s on a loaded machine."""
    import boto3
    from botocore.config import Config

    from tasks.local.bootstrap import FAKE_CREDENTIALS

    client = boto3.client(
        "lambda",
        endpoint_url=lambda_url,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
        config=Config(read_timeout=timeout, retries={"total_max_attempts": 1}),
    )

    def invoke(event: dict[str, Any]) -> None:
        answer = client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
        if "FunctionError" in answer:
            body = answer["Payload"].read().decode(errors="replace")
            raise RuntimeError(f"{function} failed: {body[:500]}")

    return invoke


def _hook_answering_triggers(lambda_url: str, codes: Any) -> None:
    """PreSignUp, PreTokenGeneration and CustomMessage, for each the manifest has a function
    of (`tasks.local.cognito_triggers`); the custom messages need the mailbox's codes."""
    from tasks.core.manifest import load_manifest
    from tasks.local.cognito_triggers import custom_message, hook_cognito_triggers, lambda_caller

    functions: dict[str, str] = {
        trigger: name
        for name, function in load_manifest().functions.items()
        for trigger in function.triggers.cognito
    }

    def caller(trigger: str) -> Any:
        name = functions.get(trigger)
        return None if name is None else lambda_caller(lambda_url, name)

    hook_cognito_triggers(caller("PreSignUp"), caller("PreTokenGeneration"))
    writer = caller("CustomMessage")
    if writer is not None and codes is not None:
        codes.customize = custom_message(writer)


# -- the process ---------------------------------------------------------------------------------
MAILBOX_PATH = "/_local/mailbox.json"
"""Where moto's process answers with the local mailbox: `{"messages": [...]}`, newest first,
`?to=<address>` for one address's."""


def with_mailbox(app: Any, mailbox: Any) -> Callable[[dict[str, Any], Any], Any]:
    """moto's WSGI app, plus the mailbox at MAILBOX_PATH."""
    from urllib.parse import parse_qs

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") != MAILBOX_PATH:
            return app(environ, start_response)
        to = parse_qs(environ.get("QUERY_STRING", "")).get("to", [""])[0]
        body = json.dumps({"messages": [m.to_json() for m in mailbox.messages(to)]}).encode()
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]

    return wsgi


def serve(
    host: str,
    port: int,
    ready_file: Path,
    post_confirmation: str | None,
    *,
    tuned: bool = True,
    state_file: Path | None = None,
    answering_triggers: bool = False,
) -> None:
    """Serve moto until SIGINT/SIGTERM or until the parent process goes away; with
    `state_file`, restore moto's state from it first and save it there after the last request;
    with `answering_triggers` (and the Lambda endpoint), Cognito's PreSignUp,
    PreTokenGeneration and CustomMessage triggers run too."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from tasks.local import snapshot
    from tasks.local.cognito_mail import Mailbox, hook_cognito_mail
    from tasks.local.cognito_mfa import hook_cognito_mfa

    mailbox = Mailbox()
    codes = None
    if tuned:
        tune_moto()
        codes = hook_cognito_mail(mailbox)
        hook_cognito_mfa()
    if post_confirmation:
        hook_post_confirmation(lambda_invoker(post_confirmation, "post_confirmation"))
        if answering_triggers:
            _hook_answering_triggers(post_confirmation, codes)
        # State machines run on moto's executor, their Lambda tasks on the same Invoke API.
        from tasks.local.workflows import run_state_machines

        run_state_machines(post_confirmation)
    restored = False
    if state_file is not None:
        extra = snapshot.load(state_file)  # SnapshotError: the process ends with its message
        if extra is not None:
            saved = extra.get("mailbox")
            if saved is not None:
                mailbox.restore(saved)  # the object the mail hooks deliver to
            restored = True
    app = with_mailbox(DomainDispatcherApplication(create_backend_app), mailbox)
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    tmp = ready_file.with_suffix(".tmp")
    ready = {"url": f"http://{bound_host}:{bound_port}", "restored": restored}
    tmp.write_text(json.dumps(ready), encoding="utf-8")
    tmp.replace(ready_file)

    parent = os.getppid()

    def watch_parent() -> None:  # an orphaned moto would hold its port forever
        while os.getppid() == parent:
            time.sleep(1.0)
        server.shutdown()

    def stop(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    threading.Thread(target=watch_parent, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        if state_file is not None:
            started = time.monotonic()
            size = snapshot.save(state_file, {"mailbox": mailbox})
            log.warning(
                "saved moto's state to %s (%d KB in %.2f s)",
                state_file,
                size // 1024,
                time.monotonic() - started,
            )


class MotoProcess:
    """moto in a child process on loopback: `start()` returns its URL, `stop()` ends it."""

    def __init__(
        self,
        host: str,
        port: int,
        workdir: Path,
        *,
        post_confirmation_url: str | None = None,
        start_timeout: float = 60.0,
        tuned: bool = True,
        state_file: Path | None = None,
        answering_triggers: bool = False,
    ) -> None:
        self.host = host
        self.answering_triggers = answering_triggers
        """Run the manifest's PreSignUp, PreTokenGeneration and CustomMessage functions too."""
        self.state_file = state_file
        """Restore moto's state from this file at start and save it there at stop."""
        self.restored = False
        """Whether `start()` restored a saved state."""
        self.port = port
        self.workdir = workdir
        self.post_confirmation_url = post_confirmation_url
        self.start_timeout = start_timeout
        self.tuned = tuned
        """False: moto as shipped (the benchmark's baseline)."""
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.workdir / "moto.log"

    def start(self) -> str:
        self.workdir.mkdir(parents=True, exist_ok=True)
        # Its own ready file: stacks sharing a log folder must never read each other's address.
        ready = self.workdir / f"moto.{uuid.uuid4().hex}.ready.json"
        ready.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "tasks.local.aws",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--ready-file",
            str(ready),
        ]
        if self.post_confirmation_url:
            command += ["--post-confirmation", self.post_confirmation_url]
            if self.answering_triggers:
                command.append("--answering-triggers")
        if not self.tuned:
            command.append("--as-shipped")
        if self.state_file is not None:
            command += ["--state-file", str(self.state_file)]
        with self.log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                command,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the stack, which stops moto in order
            )
        deadline = time.monotonic() + self.start_timeout
        while not ready.exists():
            if self._process.poll() is not None or time.monotonic() > deadline:
                tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                self.stop()
                raise MotoStartError(f"moto did not start (log {self.log_path}):\n{tail}")
            time.sleep(0.05)
        answer = json.loads(ready.read_text(encoding="utf-8"))
        self.url = answer["url"]
        self.restored = bool(answer.get("restored"))
        ready.unlink(missing_ok=True)
        return self.url

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(30)  # it saves its state (tasks.local.snapshot) before it exits
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.local.aws", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--post-confirmation", help="Lambda Invoke endpoint for the trigger")
    parser.add_argument("--as-shipped", action="store_true", help="skip the tuning (baseline)")
    parser.add_argument(
        "--answering-triggers",
        action="store_true",
        help="also run the PreSignUp, PreTokenGeneration and CustomMessage functions",
    )
    parser.add_argument("--state-file", type=Path, help="restore from / save to this file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from tasks.local.snapshot import SnapshotError

    try:
        serve(
            args.host,
            args.port,
            args.ready_file,
            args.post_confirmation,
            tuned=not args.as_shipped,
            state_file=args.state_file,
            answering_triggers=args.answering_triggers,
        )
    except SnapshotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
