"""Settings and the cached clients of the real-time functions (one set per cold start).

Every factory reads its settings once and builds its client once; tests clear the caches to
simulate a new container. Nothing here knows whether it runs in AWS or locally: boto3 honours
``AWS_ENDPOINT_URL*`` and ``WS_MANAGEMENT_ENDPOINT`` names the management API either way.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Annotated

import boto3
from botocore.config import Config
from pydantic import Field

from parley.bots import get_provider
from parley.config import (
    BaseSettings,
    ChatTableSettings,
    ConfigurationError,
    ModelSettings,
    NonEmpty,
    get_settings,
)
from parley.realtime.fanout import DEFAULT_POOL_SIZE, Broadcaster
from parley.realtime.rooms import ReplyJob, Rooms, lambda_invoker
from parley.realtime.worker import ReplyWriter
from parley.store import get_store
from parley.store.connections import ConnectionsRepository
from parley.store.streaming import StreamingRepository
from parley.store.table import chat_table

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_lambda import LambdaClient


class ConnectionsTableSettings(BaseSettings):
    """`ws_connect`: the connections table only."""

    connections_table_name: NonEmpty


class ConnectionSettings(ConnectionsTableSettings):
    """Functions that post to clients: the management API too."""

    ws_management_endpoint: NonEmpty


class RoomSettings(ConnectionSettings, ChatTableSettings):
    """What any function that checks membership and broadcasts to rooms reads."""


class MessageSettings(RoomSettings):
    """`ws_message`: rooms, plus the worker it invokes and the daily quota it enforces."""

    bot_worker_function_name: NonEmpty
    daily_token_quota: Annotated[int, Field(ge=0)] = 0


class WorkerSettings(RoomSettings, ModelSettings):
    """`bot_worker`: rooms and the model."""


@cache
def connections_repository() -> ConnectionsRepository:
    settings = get_settings(ConnectionsTableSettings)
    resource = boto3.resource("dynamodb", region_name=settings.aws_region)
    return ConnectionsRepository(resource.Table(settings.connections_table_name))


@cache
def streaming_repository() -> StreamingRepository:
    return StreamingRepository(chat_table())


@cache
def management_client() -> ApiGatewayManagementApiClient:
    """PostToConnection client: HTTP pool as large as the fan-out pool, short timeouts, few
    retries (a slow client must not hold a broadcast; 410 is an answer, not a fault)."""
    settings = get_settings(ConnectionSettings)
    return boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=settings.ws_management_endpoint,
        region_name=settings.aws_region,
        config=Config(
            max_pool_connections=DEFAULT_POOL_SIZE,
            connect_timeout=2,
            read_timeout=5,
            retries={"mode": "standard", "max_attempts": 2},
        ),
    )


@cache
def broadcaster() -> Broadcaster:
    return Broadcaster(connections_repository(), management_client())


@cache
def lambda_client() -> LambdaClient:
    settings = get_settings(MessageSettings)
    return boto3.client(
        "lambda",
        region_name=settings.aws_region,
        config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard"}),
    )


@cache
def rooms() -> Rooms:
    """The actions of `ws_message` (and the presence updates of `ws_disconnect`)."""
    get_settings(RoomSettings)

    def invoke_worker(job: ReplyJob) -> None:
        name = get_settings(MessageSettings).bot_worker_function_name
        lambda_invoker(lambda_client(), name)(job)

    return Rooms(
        store=get_store(),
        connections=connections_repository(),
        streaming=streaming_repository(),
        broadcaster=broadcaster(),
        invoke_worker=invoke_worker,
        daily_token_quota=_daily_quota(),
    )


def _daily_quota() -> int:
    """`ws_message` enforces the quota; `ws_disconnect` (no worker settings) never asks."""
    try:
        return int(get_settings(MessageSettings).daily_token_quota)
    except ConfigurationError:
        return 0


@cache
def reply_writer() -> ReplyWriter:
    settings = get_settings(WorkerSettings)
    return ReplyWriter(
        store=get_store(),
        streaming=streaming_repository(),
        broadcaster=broadcaster(),
        provider=lambda: get_provider(settings),
        max_output_tokens=settings.model_max_output_tokens,
        history_token_budget=settings.history_token_budget,
    )
