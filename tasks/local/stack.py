"""The whole of Parley on one machine: moto, the gateway emulator, a model and the web app.

    python -m tasks.local.stack --model scripted|local|openai|bedrock [--ready-file PATH]

Starts everything on loopback (free ports unless fixed ones are given), prints one summary,
writes the ready JSON of docs/contracts.md, and stops everything on one Ctrl-C or SIGTERM.
Tests and benchmarks use `LocalStack` in-process, with the scripted model they can steer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "functions") not in sys.path:
    sys.path.append(str(ROOT / "functions"))

MODELS = ("scripted", "local", "openai", "bedrock")
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "Parley-demo-2026!"  # noqa: S105 - moto's local demo user, printed on purpose
DEMO_NAME = "Demo User"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "Parley-admin-2026!"  # noqa: S105 - moto's local admin user, printed on purpose
ADMIN_NAME = "Admin User"
ADMIN_GROUP = "admins"
"""The Cognito group whose members are admins (terraform/modules/auth makes it in AWS)."""
STATE_FILE = "moto.pickle"
DEMO_MODEL = "SmolLM2-135M-Instruct"
"""The tiny local model `--model local` runs; the app says answers come from it."""
DEV_PORTS = {
    "app": 8080,
    "http": 8081,
    "ws": 8082,
    "lambda": 8083,
    "moto": 8084,
    "model": 8085,
    "auth": 8086,
    "idp": 8087,
}
"""`invoke dev`'s fixed ports, so a browser tab survives a restart."""
SERVICE_ENDPOINTS = (
    "COGNITO_IDENTITY_PROVIDER",
    "DYNAMODB",
    "S3",
    "SSM",
    "SQS",
    "STS",
    "SECRETS_MANAGER",
    "SFN",
)
"""Services the functions reach on moto (AWS_ENDPOINT_URL_<service>, honoured by boto3)."""

log = logging.getLogger("parley.local.stack")


class StackError(Exception):
    """The stack cannot start; the message says what to do (printed without a traceback)."""


@dataclass(frozen=True)
class StackConfig:
    """How to run the stack; ports 0 pick free ones."""

    model: str = "scripted"
    host: str = "127.0.0.1"
    ports: dict[str, int] = field(default_factory=dict)
    log_dir: Path = ROOT / ".local" / "logs"
    extra_origins: tuple[str, ...] = ()
    warm: bool = False
    daily_token_quota: int = 0
    scripted_reply: str | None = None
    scripted_token_delay: float = 0.03
    gateway: dict[str, Any] = field(default_factory=dict)
    """GatewaySettings overrides (throttling, concurrency…) for tests and benchmarks."""
    stream_window: float | None = None
    """The change feed's batching window in seconds; None: the manifest's (1 s). Tests set 0."""
    retention_days: int = 0
    """The maintenance's retention (RETENTION_DAYS); 0 keeps every conversation."""
    schedule_interval: float = field(
        default_factory=lambda: float(os.environ.get("PARLEY_SCHEDULE_INTERVAL", "3600"))
    )
    """Seconds between runs of each scheduled function (nightly in AWS); 0 never runs them."""
    state_dir: Path | None = None
    """Keep moto's state (users, tables, the mailbox…) here across restarts: restored at start,
    saved at stop (`tasks.local.snapshot`). None: every start is clean (tests)."""
    fresh: bool = False
    """Forget the state saved in `state_dir` and start clean."""
    mfa: str = "OPTIONAL"
    """The user pool's MFA setting (Terraform's `mfa`): OPTIONAL lets each person turn on
    two-step verification (TOTP), ON makes everyone set it up at sign-in, OFF offers none."""
    signup_domains: tuple[str, ...] = ()
    """Only addresses at these e-mail domains may sign up (Terraform's `signup.allowed_domains`);
    with `signup_invites`, invited addresses too. Neither: anyone (the default)."""
    signup_invites: bool = False
    """Addresses a room owner invited may sign up (Terraform's `signup.invites`)."""

    def port(self, name: str) -> int:
        return int(self.ports.get(name, 0))


def _free(host: str, port: int, what: str) -> None:
    from tasks.local.servers import bind

    if port:
        bind(host, port, what).close()


class LocalStack:
    """Start with `start()` (returns the ready info), stop with `stop()`; also a context manager."""

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.info: dict[str, Any] = {}
        self.resources: Any = None
        self.scripted_model: Any = None
        self.gateway: Any = None
        self.loop: Any = None
        self._moto: Any = None
        self._model_server: Any = None
        self._app_server: Any = None
        self._background: list[Any] = []
        self.streams: dict[str, Any] = {}
        """The change feed's pollers by function (tasks.local.streams), while running."""
        self._lambda_sock: Any = None
        self._uploads: Any = None
        self._gate_server: Any = None
        self._hosted_server: Any = None
        self._idp: Any = None
        self.hosted_ui: Any = None
        """Cognito's hosted endpoints' stand-in (tasks/local/hosted_ui.py), while running."""
        self.catalog: Any = None
        """The models this run offers (`parley.catalog.Catalog`, tasks/local/catalog.py)."""

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- start ---------------------------------------------------------------------------------
    def start(self) -> dict[str, Any]:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> dict[str, Any]:
        import boto3

        from tasks.core.manifest import ManifestError, load_manifest
        from tasks.local.aws import MotoProcess, MotoStartError
        from tasks.local.bootstrap import (
            DEFAULT_MODEL_KEY,
            FAKE_CREDENTIALS,
            MFA_MODES,
            PASSWORD_POLICY,
            BootstrapMismatch,
            bootstrap,
        )
        from tasks.local.frontend import MAILBOX_PAGE, frontend_app, frontend_config
        from tasks.local.gateway import GatewaySettings, JwtConfig, LocalGateway
        from tasks.local.gateway.settings import Cors, MissingRefs
        from tasks.local.servers import AsgiServer, LoopThread, bind, port_of

        cfg = self.config
        if cfg.model not in MODELS:
            raise StackError(f"unknown model '{cfg.model}': choose one of {', '.join(MODELS)}")
        if cfg.mfa not in MFA_MODES:
            raise StackError(f"unknown mfa '{cfg.mfa}': choose one of {', '.join(MFA_MODES)}")
        try:
            manifest = load_manifest()
        except ManifestError as exc:
            raise StackError(f"functions/manifest.yaml is invalid:\n{exc}") from None
        api_key = DEFAULT_MODEL_KEY
        if cfg.model == "openai":
            api_key = os.environ.get("OPENAI_API_KEY", "")
            if not api_key:
                raise StackError("--model openai needs OPENAI_API_KEY in the environment")
        labels = {
            "http": "HTTP API",
            "ws": "WebSocket API",
            "moto": "moto",
            "model": "model",
            "auth": "hosted sign-in",
            "idp": "identity provider",
        }
        for name, label in labels.items():  # fail before anything starts
            _free(cfg.host, cfg.port(name), label)
        app_sock = bind(cfg.host, cfg.port("app"), "web app")
        app_url = f"http://{cfg.host}:{port_of(app_sock)}"
        # Bound now: moto's process needs its URL for Cognito's post-confirmation trigger.
        self._lambda_sock = lambda_sock = bind(cfg.host, cfg.port("lambda"), "Lambda API")

        # AWS on moto, in its own process, from the same definitions Terraform uses.
        state_file = self._state_file()
        self._moto = MotoProcess(
            cfg.host,
            cfg.port("moto"),
            cfg.log_dir,
            post_confirmation_url=(
                f"http://{cfg.host}:{port_of(lambda_sock)}"
                if "post_confirmation" in manifest.functions
                else None
            ),
            state_file=state_file,
            answering_triggers=True,
        )
        try:
            moto_url = self._moto.start()
        except MotoStartError as exc:
            raise StackError(str(exc)) from None
        try:
            self.resources = resources = bootstrap(moto_url, model_api_key=api_key, mfa=cfg.mfa)
        except BootstrapMismatch as exc:
            raise StackError(str(exc)) from None
        session = boto3.Session(
            aws_access_key_id=FAKE_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=FAKE_CREDENTIALS["aws_secret_access_key"],
            region_name=resources.region,
        )
        cognito = session.client("cognito-idp", endpoint_url=moto_url)
        sqs = session.client("sqs", endpoint_url=moto_url)
        dlqs = {
            f.name: sqs.create_queue(QueueName=f"parley-local-{f.name}-dlq")["QueueUrl"]
            for f in manifest.functions.values()
            if f.triggers.async_ is not None and f.triggers.async_.on_failure == "dlq"
        }

        # The model, and the catalog of the models this run offers (tasks/local/models.yaml),
        # where the functions read it (Terraform writes an environment's).
        model_refs, model_url, model_label = self._start_model()
        from tasks.local.catalog import local_catalog, store_catalog

        base_urls = {}
        if self.scripted_model is not None:
            base_urls["scripted"] = self.scripted_model.base_url
        if self._model_server is not None:
            base_urls["llama"] = self._model_server.base_url
        self.catalog = local_catalog(
            cfg.model,
            base_urls=base_urls,
            api_key_parameter=resources.model_api_key_parameter
            if cfg.model in ("scripted", "openai")
            else None,
        )
        store_catalog(session, moto_url, resources.chat_table, self.catalog)

        # The gateway and its functions.
        # Step Functions on moto's own executor, and the exports bucket (tasks.local.workflows).
        from tasks.local.workflows import create_workflows

        workflow_refs = create_workflows(session, moto_url, manifest)
        refs = {
            **resources.refs(),
            **model_refs,
            **workflow_refs,
            "retention_days": str(cfg.retention_days),
            "daily_token_quota": str(cfg.daily_token_quota),
            "bedrock_agent_id": os.environ.get("BEDROCK_AGENT_ID", ""),
            "bedrock_agent_alias_id": os.environ.get("BEDROCK_AGENT_ALIAS_ID", ""),
            # Cognito's triggers: who may sign up (open unless configured) and the app's URL.
            "signup_allowed_domains": ",".join(cfg.signup_domains),
            "signup_invites": "true" if cfg.signup_invites else "false",
            "app_url": app_url,
        }
        origins = (app_url, app_url.replace(cfg.host, "localhost"), *cfg.extra_origins)
        # Attachments: the uploads bucket behind a gate that checks POST policies as S3 does
        # and notifies the upload processor (tasks.local.uploads).
        from tasks.local.uploads import S3Gate, create_bucket, notifications, upload_refs

        gate_sock = bind(cfg.host, cfg.port("s3"), "S3")
        gate_url = f"http://{cfg.host}:{port_of(gate_sock)}"
        self._uploads = S3Gate(
            moto_url, create_bucket(session, moto_url, origins), origins, resources.region,
            notify=notifications(manifest),
        )  # fmt: skip
        refs.update(upload_refs(cfg.model))
        settings = replace(
            GatewaySettings(region=resources.region, cors=Cors(allow_origins=origins)),
            **cfg.gateway,
        )

        async def dead_letter(function: str, event: Any, error: dict[str, Any]) -> None:
            if function in dlqs:
                body = json.dumps({"requestPayload": event, "responsePayload": error})
                await asyncio.to_thread(sqs.send_message, QueueUrl=dlqs[function], MessageBody=body)

        self.gateway = gateway = LocalGateway(
            manifest,
            refs,
            {**self._function_env(moto_url, resources.region), "AWS_ENDPOINT_URL_S3": gate_url},
            settings,
            jwt=JwtConfig(resources.issuer, (resources.client_id,), resources.jwks_url),
            sweep=(session.client("dynamodb", endpoint_url=moto_url), resources.connections_table),
            dead_letter=dead_letter,
            host=cfg.host,
        )
        self.loop = LoopThread()
        try:
            endpoints = self.loop.run(gateway.start(cfg.port("http"), cfg.port("ws"), lambda_sock))
            self._uploads.runtime = gateway.runtime
            self._gate_server = AsgiServer(self._uploads, gate_sock)
            self.loop.run(self._gate_server.start())
        except MissingRefs as exc:
            raise StackError(str(exc)) from None
        # Federated sign-in: the stand-in identity provider behind a stand-in of Cognito's
        # hosted endpoints (tasks.local.hosted_ui), back to the app's root as in AWS.
        from tasks.local.hosted_ui import (
            FEDERATED_USERS,
            LOCAL_PROVIDER,
            HostedUi,
            LocalIdentityProvider,
        )

        self._idp = LocalIdentityProvider(cfg.host, cfg.port("idp")).start()
        hosted_sock = bind(cfg.host, cfg.port("auth"), "hosted sign-in")
        hosted_url = f"http://{cfg.host}:{port_of(hosted_sock)}"
        self.hosted_ui = HostedUi(
            cognito=cognito,
            user_pool_id=resources.user_pool_id,
            client_id=resources.client_id,
            base_url=hosted_url,
            callback_urls=[f"{origin}/" for origin in dict.fromkeys(origins)],
            idp=self._idp,
            links_file=cfg.state_dir / "federation.json" if cfg.state_dir else None,
        )
        self._hosted_server = AsgiServer(self.hosted_ui.app, hosted_sock)
        self.loop.run(self._hosted_server.start())
        config = frontend_config(
            region=resources.region,
            user_pool_id=resources.user_pool_id,
            client_id=resources.client_id,
            cognito_endpoint=moto_url,
            http_api_url=endpoints.http_url,
            ws_url=endpoints.ws_url,
            password_policy=PASSWORD_POLICY,
            mfa=cfg.mfa,
            demo_model=DEMO_MODEL if cfg.model == "local" else None,
            oauth={"domain": hosted_url, "providers": [LOCAL_PROVIDER]},
        )
        self._app_server = AsgiServer(frontend_app(config, moto_url=moto_url), app_sock)
        self.loop.run(self._app_server.start())

        # moto runs the post-confirmation trigger for the demo user before this returns.
        self._create_demo_user(cognito)
        self._create_admin_user(cognito)
        if self._moto.restored:  # the WebSocket connections of the last run are gone
            clear_table(
                session.client("dynamodb", endpoint_url=moto_url), resources.connections_table
            )
        if cfg.warm:
            self._background.append(
                asyncio.run_coroutine_threadsafe(gateway.warm(), self.loop.loop)
            )
        if cfg.schedule_interval > 0:  # EventBridge Scheduler: each schedule on a timer
            from tasks.local.workflows import schedule_forever, scheduled_functions

            for function, event in scheduled_functions(manifest).items():
                timer = schedule_forever(gateway.runtime, function, event, cfg.schedule_interval)
                self._background.append(asyncio.run_coroutine_threadsafe(timer, self.loop.loop))

        # DynamoDB Streams → the stream functions, as Lambda's event source mapping does.
        self.streams = self._start_streams(manifest, session, moto_url, resources, sqs)

        self.info = {
            "appUrl": app_url,
            "httpApiUrl": endpoints.http_url,
            "wsUrl": endpoints.ws_url,
            "cognitoEndpoint": moto_url,
            "region": resources.region,
            "userPoolId": resources.user_pool_id,
            "clientId": resources.client_id,
            "motoUrl": moto_url,
            "modelUrl": model_url,
            "demoUser": {"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
            "adminUser": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "group": ADMIN_GROUP},
            "model": model_label,
            "logDir": str(cfg.log_dir),
            "lambdaUrl": endpoints.lambda_url,
            "changeFeed": {
                name: {"deadLetterQueueUrl": poller.dead_letter_queue_url}
                for name, poller in self.streams.items()
            },
            "mailboxUrl": f"{app_url}{MAILBOX_PAGE}",
            "federation": {
                "hostedUrl": hosted_url,
                "identityProviderUrl": self._idp.url,
                "provider": LOCAL_PROVIDER,
                "users": [email for email, _ in FEDERATED_USERS],
            },
            "data": {
                "stateDir": str(cfg.state_dir) if cfg.state_dir else None,
                "restored": self._moto.restored,
                "fresh": cfg.fresh,
            },
        }
        return self.info

    def _state_file(self) -> Path | None:
        """Where moto's state is kept (None: not kept); `fresh` forgets what was saved."""
        if self.config.state_dir is None:
            return None
        path = self.config.state_dir / STATE_FILE
        if self.config.fresh:
            path.unlink(missing_ok=True)
        return path

    def _start_model(self) -> tuple[dict[str, str], str, str]:
        """Start (or point at) the model: (refs, its URL, what the summary calls it)."""
        cfg = self.config
        if cfg.model == "scripted":
            from tasks.local.scripted_model import DEFAULT_TEXT, MODEL_NAME, Reply, ScriptedModel

            reply = Reply(
                text=cfg.scripted_reply or DEFAULT_TEXT, token_delay=cfg.scripted_token_delay
            )
            self.scripted_model = ScriptedModel(cfg.host, cfg.port("model"), reply).start()
            refs = {
                "model_provider": "openai",
                "model_id": MODEL_NAME,
                "model_base_url": self.scripted_model.base_url,
            }
            return refs, self.scripted_model.url, "scripted OpenAI-compatible server (tests)"
        if cfg.model == "local":
            from tasks.local.model import MODEL_ALIAS, LocalModelServer, ModelError
            from tasks.local.servers import bind, port_of

            port = cfg.port("model")
            if not port:
                sock = bind(cfg.host, 0, "model")
                port = port_of(sock)
                sock.close()
            self._model_server = LocalModelServer(port, cfg.log_dir / "model.log", cfg.host)
            try:
                self._model_server.start()
            except ModelError as exc:
                raise StackError(str(exc)) from None
            refs = {
                "model_provider": "openai",
                "model_id": MODEL_ALIAS,
                "model_base_url": self._model_server.base_url,
            }
            return (
                refs,
                self._model_server.url,
                f"SmolLM2-135M-Instruct on llama.cpp ({MODEL_ALIAS})",
            )
        if cfg.model == "openai":
            model_id = os.environ.get("OPENAI_MODEL", "gpt-4o-mini")
            base = os.environ.get("OPENAI_BASE_URL", "")
            refs = {"model_provider": "openai", "model_id": model_id, "model_base_url": base}
            return refs, base or "https://api.openai.com/v1", f"OpenAI {model_id}"
        model_id = os.environ.get("BEDROCK_MODEL_ID", "anthropic.claude-3-haiku-20240307-v1:0")
        provider = "bedrock-agent" if os.environ.get("BEDROCK_AGENT_ID") else "bedrock"
        refs = {"model_provider": provider, "model_id": model_id, "model_base_url": ""}
        return refs, "", f"Amazon Bedrock {model_id} (your AWS credentials)"

    def _function_env(self, moto_url: str, region: str) -> dict[str, str]:
        """AWS settings for every function: moto for our services, never the caller's secrets
        (Bedrock alone needs real credentials, taken from the caller's environment)."""
        from tasks.local.bootstrap import FAKE_CREDENTIALS

        env = {f"AWS_ENDPOINT_URL_{name}": moto_url for name in SERVICE_ENDPOINTS}
        env.update({"AWS_REGION": region, "AWS_DEFAULT_REGION": region})
        # A disabled account is refused within 1 s here (60 s at most in AWS, 30 by default):
        # stricter, so a disable is seen at once by the tests and the app (parley.gate).
        env["ACCOUNT_CHECK_SECONDS"] = "1"
        if self.config.model == "bedrock":
            for name in (
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_PROFILE",
            ):
                if name in os.environ:
                    env[name] = os.environ[name]
        else:
            env["AWS_ENDPOINT_URL"] = moto_url
            env["AWS_ACCESS_KEY_ID"] = FAKE_CREDENTIALS["aws_access_key_id"]
            env["AWS_SECRET_ACCESS_KEY"] = FAKE_CREDENTIALS["aws_secret_access_key"]
        return env

    def _create_demo_user(self, cognito: Any) -> None:
        try:  # restored local data has it already
            cognito.admin_get_user(UserPoolId=self.resources.user_pool_id, Username=DEMO_EMAIL)
            return
        except cognito.exceptions.UserNotFoundException:
            pass
        cognito.admin_create_user(
            UserPoolId=self.resources.user_pool_id,
            Username=DEMO_EMAIL,
            UserAttributes=[
                {"Name": "email", "Value": DEMO_EMAIL},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "name", "Value": DEMO_NAME},
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=self.resources.user_pool_id,
            Username=DEMO_EMAIL,
            Password=DEMO_PASSWORD,
            Permanent=True,
        )

    def _create_admin_user(self, cognito: Any) -> None:
        """The admin console's user: a member of the `admins` group (the pre-token-generation
        trigger gives its ID tokens `parley:role` = `admin`). Kept when restored."""
        pool = self.resources.user_pool_id
        with contextlib.suppress(cognito.exceptions.GroupExistsException):
            cognito.create_group(
                GroupName=ADMIN_GROUP, UserPoolId=pool, Description="Parley administrators"
            )
        try:
            cognito.admin_get_user(UserPoolId=pool, Username=ADMIN_EMAIL)
        except cognito.exceptions.UserNotFoundException:
            cognito.admin_create_user(
                UserPoolId=pool,
                Username=ADMIN_EMAIL,
                UserAttributes=[
                    {"Name": "email", "Value": ADMIN_EMAIL},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "name", "Value": ADMIN_NAME},
                ],
                MessageAction="SUPPRESS",
            )
            cognito.admin_set_user_password(
                UserPoolId=pool, Username=ADMIN_EMAIL, Password=ADMIN_PASSWORD, Permanent=True
            )
        cognito.admin_add_user_to_group(
            UserPoolId=pool, Username=ADMIN_EMAIL, GroupName=ADMIN_GROUP
        )

    def _start_streams(
        self, manifest: Any, session: Any, moto_url: str, resources: Any, sqs: Any
    ) -> dict[str, Any]:
        """One poller per manifest `triggers.stream` (tasks.local.streams), each with its
        dead-letter queue on moto, invoking the function through the local Lambda runtime."""
        from tasks.local.streams import Mapping, StreamPoller

        dynamodb = session.client("dynamodb", endpoint_url=moto_url)
        streams_client = session.client("dynamodbstreams", endpoint_url=moto_url)
        pollers: dict[str, Any] = {}
        for function in manifest.functions.values():
            config = function.triggers.stream
            if config is None:
                continue
            table = resources.table_names[config.table]
            arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
            queue = sqs.create_queue(QueueName=f"parley-local-{function.name}-stream-dlq")[
                "QueueUrl"
            ]

            def invoke(event: dict[str, Any], name: str = function.name) -> Any:
                call = self.gateway.runtime.invoke(name, event)
                return asyncio.run_coroutine_threadsafe(call, self.loop.loop).result(timeout=960)

            def dead_letter(record: dict[str, Any], queue: str = queue) -> None:
                sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(record))

            poller = StreamPoller(
                streams_client,
                arn,
                function_arn=f"arn:aws:lambda:{resources.region}:000000000000:function:{function.name}",
                mapping=Mapping.from_manifest(config, window=self.config.stream_window),
                invoke=invoke,
                dead_letter=dead_letter,
                region=resources.region,
            )
            poller.dead_letter_queue_url = queue
            pollers[function.name] = poller.start()
        return pollers

    # -- stop ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop everything that started, in reverse order; safe to call twice."""
        for poller in self.streams.values():
            poller.stop()
        self.streams = {}
        for future in self._background:
            future.cancel()
        self._background = []
        if self.loop is not None:
            for part in (self.gateway, self._app_server, self._gate_server, self._hosted_server):
                if part is not None:
                    with contextlib.suppress(Exception):
                        self.loop.run(part.stop(), timeout=30)
            self.loop.close()
            self.loop = None
        self.gateway = self._app_server = self._hosted_server = None
        if self._idp is not None:
            self._idp.stop()
            self._idp = None
        if self._model_server is not None:
            self._model_server.stop()
            self._model_server = None
        if self.scripted_model is not None:
            self.scripted_model.stop()
            self.scripted_model = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._lambda_sock is not None:  # bound before moto; the gateway may never have run
            self._lambda_sock.close()
            self._lambda_sock = None


def clear_table(dynamodb: Any, table: str) -> None:
    """Delete every item of a table (the connections of a run that has ended)."""
    keys = ("pk", "sk")
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table, ProjectionExpression="pk, sk"
    ):
        for item in page["Items"]:
            dynamodb.delete_item(TableName=table, Key={k: item[k] for k in keys if k in item})


# -- CLI ---------------------------------------------------------------------------------------
def configure_logging(log_dir: Path) -> None:
    """Functions' output, the access log and the stack's own log, each in its file; warnings
    also on the console."""
    log_dir.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s")

    def to_file(name: str, filename: str, formatter: logging.Formatter = fmt) -> None:
        handler = logging.FileHandler(log_dir / filename, encoding="utf-8")
        handler.setFormatter(formatter)
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

    to_file("parley.local.access", "access.log", logging.Formatter("%(message)s"))
    to_file("parley.local.lambda", "functions.log")
    root = logging.getLogger("parley.local")
    root.setLevel(logging.INFO)
    handler = logging.FileHandler(log_dir / "stack.log", encoding="utf-8")
    handler.setFormatter(fmt)
    root.addHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root.addHandler(console)
    logging.getLogger("parley.local.lambda").addHandler(console)


def data_line(data: dict[str, Any]) -> str:
    """What the summary says about local data: kept or not, restored or new."""
    if not data.get("stateDir"):
        return "not kept: everything starts clean and is gone when the stack stops"
    where = data["stateDir"]
    if data.get("restored"):
        return f"restored from the last run ({where}); `invoke dev --fresh` starts clean"
    if data.get("fresh"):
        return f"started clean (--fresh); kept in {where} for the next run"
    return f"new; kept in {where} for the next run"


def summary(info: dict[str, Any]) -> str:
    demo = info["demoUser"]
    return "\n".join(
        [
            "",
            "Parley is running locally — open the app:",
            f"  app          {info['appUrl']}",
            f"  sign in as   {demo['email']} / {demo['password']}",
            f"  admin        {info['adminUser']['email']} / {info['adminUser']['password']}"
            f"  (group {info['adminUser']['group']}: the admin console at /admin)",
            f"  mailbox      {info['mailboxUrl']}  (the codes Cognito would e-mail)",
            f"  federated    Sign in with {info['federation']['provider']['label']}:"
            f" {', '.join(info['federation']['users'])} or any e-mail"
            f" (stand-in provider {info['federation']['identityProviderUrl']})",
            f"  data         {data_line(info['data'])}",
            f"  assistant    {info['model']}"
            + (f" at {info['modelUrl']}" if info["modelUrl"] else ""),
            f"  HTTP API     {info['httpApiUrl']}",
            f"  WebSocket    {info['wsUrl']}",
            f"  AWS (moto)   {info['motoUrl']}  (Cognito pool {info['userPoolId']})",
            f"  logs         {info['logDir']}/"
            " (functions.log, access.log, stack.log, moto.log, model.log)",
            "Press Ctrl-C to stop everything.",
            "",
        ]
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tasks.local.stack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", choices=MODELS, default="scripted")
    parser.add_argument("--ready-file", type=Path, help="write the ready JSON here")
    parser.add_argument("--port", type=int, default=0, help="the web app's port (0: free)")
    for name in ("http", "ws", "lambda", "moto", "model"):
        parser.add_argument(f"--{name}-port", type=int, default=0)
    parser.add_argument("--dev-ports", action="store_true", help=f"fixed ports {DEV_PORTS}")
    parser.add_argument("--origin", action="append", default=[], help="another CORS origin")
    parser.add_argument("--log-dir", type=Path, default=ROOT / ".local" / "logs")
    parser.add_argument("--warm", action="store_true", help="start every function at once")
    parser.add_argument("--daily-token-quota", type=int, default=0)
    parser.add_argument(
        "--state-dir", type=Path, help="keep local data here across restarts (default: not kept)"
    )
    parser.add_argument("--fresh", action="store_true", help="forget the data kept in --state-dir")
    parser.add_argument(
        "--mfa",
        choices=("OFF", "OPTIONAL", "ON"),
        default="OPTIONAL",
        help="two-step verification: OPTIONAL (each person may turn it on), ON (required), OFF",
    )
    parser.add_argument(
        "--signup-domain",
        action="append",
        default=[],
        help="only addresses at this e-mail domain may sign up (repeat for more; default: anyone)",
    )
    parser.add_argument(
        "--signup-invites", action="store_true", help="addresses a room owner invited may sign up"
    )
    return parser.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> StackConfig:
    ports = dict(DEV_PORTS) if args.dev_ports else {}
    given = {
        "app": args.port,
        "http": args.http_port,
        "ws": args.ws_port,
        "lambda": args.lambda_port,
        "moto": args.moto_port,
        "model": args.model_port,
    }
    ports.update({k: v for k, v in given.items() if v})
    return StackConfig(
        model=args.model,
        ports=ports,
        log_dir=args.log_dir,
        extra_origins=tuple(args.origin),
        warm=args.warm,
        daily_token_quota=args.daily_token_quota,
        state_dir=args.state_dir,
        fresh=args.fresh,
        mfa=args.mfa,
        signup_domains=tuple(d.strip().lower() for d in args.signup_domain if d.strip()),
        signup_invites=args.signup_invites,
    )


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    stop = threading.Event()

    def handle(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise SystemExit(130)  # a second Ctrl-C: leave now
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run(config: StackConfig, ready_file: Path | None = None) -> int:
    """Run until Ctrl-C/SIGTERM; errors a user can fix are one message, no traceback."""
    from tasks.local.servers import PortInUse

    configure_logging(config.log_dir)
    stack = LocalStack(config)
    with _stop_on_signals() as stop:
        started = time.monotonic()
        try:
            info = stack.start()
        except (StackError, PortInUse) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 130
        if stop.is_set():
            stack.stop()
            return 130
        info["startSeconds"] = round(time.monotonic() - started, 1)
        sys.stdout.write(summary(info))
        sys.stdout.write(json.dumps(info) + "\n")
        sys.stdout.flush()
        if ready_file is not None:
            ready_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = ready_file.with_suffix(ready_file.suffix + ".tmp")
            tmp.write_text(json.dumps(info) + "\n", encoding="utf-8")
            tmp.replace(ready_file)
        try:
            stop.wait()
        finally:
            print("\nStopping…", file=sys.stderr)
            if ready_file is not None:
                ready_file.unlink(missing_ok=True)
            stack.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        import moto.server  # noqa: F401 - checked here for a clear message
        import uvicorn  # noqa: F401
    except ImportError as exc:
        print(
            f"error: {exc.name} is missing: run scripts/dev (or `uv sync`) first", file=sys.stderr
        )
        return 1
    return run(config_from_args(args), args.ready_file)


if __name__ == "__main__":
    raise SystemExit(main())
