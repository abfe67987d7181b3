"""The cached services and clients of a cold start, for every function.

Every factory reads its settings once and builds its object once; tests clear the caches to
simulate a new container. Nothing here knows whether it runs in AWS or locally: boto3 honours
``AWS_ENDPOINT_URL*`` and ``WS_MANAGEMENT_ENDPOINT`` names the management API either way.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from parley.assistants import Assistants
from parley.attachments import Attachments, UploadLimits
from parley.bots import get_provider, prepare_providers, provider_for
from parley.catalog import CatalogSource
from parley.changes import ChangeFeed, projections
from parley.config import (
    ApiSettings,
    ChatTableSettings,
    ConnectionSettings,
    ConnectionsTableSettings,
    ContextSettings,
    ExportRequestSettings,
    ExportWorkerSettings,
    MaintenanceSettings,
    ManagementSettings,
    MessageSettings,
    QuotaSettings,
    RoomSettings,
    ShardSettings,
    ShareSettings,
    UploadSettings,
    WorkerSettings,
    get_settings,
)
from parley.conversations import Conversations
from parley.export_job import ExportJob
from parley.exports import LINK_SECONDS as EXPORT_LINK_SECONDS
from parley.exports import Exports
from parley.feedback import ReplyFeedback
from parley.gate import account_gate
from parley.maintenance import Maintenance, connection_alive
from parley.posting import MessagePipeline
from parley.quota import Quota
from parley.realtime.fanout import DEFAULT_POOL_SIZE, Broadcaster, post_frame
from parley.realtime.presence import LivePresence
from parley.realtime.rooms import Rooms, lambda_invoker
from parley.realtime.shards import MAX_SHARDS, Invoke, ShardPoster, post_slice, sync_invoker
from parley.replies import ReplyWriter
from parley.shares import SharedReader, Shares, end_links
from parley.store import get_store
from parley.store.assistants import AssistantRepository
from parley.store.catalog import CatalogRepository
from parley.store.connections import ConnectionsRepository
from parley.store.exports import ExportRepository
from parley.store.housekeeping import HousekeepingRepository
from parley.store.shares import ShareRepository, SnapshotBucket
from parley.store.table import chat_table
from parley.store.uploads import UploadBucket

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client

    from parley.jobs import ReplyJob
    from parley.replies import ReplyOutcome


@cache
def connections_repository() -> ConnectionsRepository:
    settings = get_settings(ConnectionsTableSettings)
    resource = boto3.resource("dynamodb", region_name=settings.aws_region)
    return ConnectionsRepository(resource.Table(settings.connections_table_name))


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
def sharded_reply_writer() -> ReplyWriter:
    """`bot_worker`'s writer, whose broadcasts to rooms above `SHARD_THRESHOLD` subscribers
    go through `fanout` slices when the manifest names that function."""
    writer = reply_writer()
    writer.broadcaster = Broadcaster(
        connections_repository(), management_client(), shards=shard_poster()
    )
    return writer


def warm_reply_worker() -> None:
    """Build at init what `bot_worker`'s first reply would build: the writer with its AWS
    clients, and every provider's SDK imported. Lambda runs an on-demand function's init on a
    full vCPU (for up to 10 s) and its invocations on memory/1,769 of one (0.11 at 192 MB),
    so this set-up, about 0.4 s of CPU, no longer delays a new environment's first token by
    seconds."""
    sharded_reply_writer()
    prepare_providers(get_settings(WorkerSettings).aws_region)


def shard_poster() -> ShardPoster | None:
    """Big rooms' chunks through `fanout` slices, where the manifest names the function."""
    settings = get_settings(ShardSettings)
    if not settings.fanout_function_name:
        return None
    client = boto3.client(
        "lambda",
        region_name=settings.aws_region,
        config=Config(
            max_pool_connections=MAX_SHARDS,
            connect_timeout=2,
            read_timeout=10,
            retries={"mode": "standard", "max_attempts": 2},
        ),
    )
    return ShardPoster(sync_invoker(client, settings.fanout_function_name))


@cache
def fanout_slice() -> Invoke:
    """`fanout`: post one frame to a slice of a room (no table: 410s go back to the worker)."""
    settings = get_settings(ManagementSettings)
    client = boto3.client(
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
    pool = ThreadPoolExecutor(DEFAULT_POOL_SIZE, thread_name_prefix="fanout")
    return lambda event: post_slice(event, lambda c, d: post_frame(client, c, d), pool)


@cache
def lambda_client() -> LambdaClient:
    settings = get_settings(MessageSettings)
    return boto3.client(
        "lambda",
        region_name=settings.aws_region,
        config=Config(connect_timeout=2, read_timeout=5, retries={"mode": "standard"}),
    )


def quota(settings: QuotaSettings) -> Quota:
    return Quota(
        get_store(),
        daily_tokens=settings.daily_token_quota,
        max_output_tokens=settings.model_max_output_tokens,
    )


@cache
def model_catalog() -> CatalogSource:
    """The environment's model catalog (`parley.catalog`): its item, read at most every few
    minutes."""
    return CatalogSource(CatalogRepository(chat_table()).get)


def _pipeline(settings: ContextSettings) -> MessagePipeline:
    get_settings(RoomSettings)
    pipeline = MessagePipeline(
        store=get_store(),
        quota=quota(settings),
        broadcaster=broadcaster(),
        budget=None,  # the conversation's model's, from the catalog
    )
    pipeline.catalog = model_catalog()
    pipeline.assistants = assistants()
    return pipeline


@cache
def assistants() -> Assistants:
    """Users' assistants (`parley.assistants`), their models checked against the catalog."""
    return Assistants(get_store(), AssistantRepository(chat_table()), catalog=model_catalog())


@cache
def presence() -> LivePresence:
    """Presence, and what membership changes do to live sockets (`ws_disconnect`, `chat_api`)."""
    get_settings(RoomSettings)
    return LivePresence(
        store=get_store(), connections=connections_repository(), broadcaster=broadcaster()
    )


@cache
def rooms() -> Rooms:
    """The actions of `ws_message`."""
    settings = get_settings(MessageSettings)

    def invoke_worker(job: ReplyJob) -> ReplyOutcome | None:
        return lambda_invoker(lambda_client(), settings.bot_worker_function_name)(job)

    return Rooms(
        store=get_store(),
        connections=connections_repository(),
        broadcaster=broadcaster(),
        presence=presence(),
        pipeline=_pipeline_with_files(settings),
        dispatch=invoke_worker,
        gate=account_gate(),
    )


def _writer(settings: WorkerSettings | ApiSettings) -> ReplyWriter:
    return ReplyWriter(
        store=get_store(),
        quota=quota(settings),
        broadcaster=broadcaster(),
        provider=lambda: get_provider(settings),
        max_output_tokens=settings.model_max_output_tokens,
        history_token_budget=settings.budget.history_tokens(settings.history_token_budget),
        catalog=model_catalog(),
        provider_for=lambda entry: provider_for(settings, entry),
        history_token_cap=settings.history_token_budget,
    )


@cache
def reply_writer() -> ReplyWriter:
    """`bot_worker`'s writer."""
    return _writer_with_files(get_settings(WorkerSettings))


@cache
def api_pipeline() -> tuple[MessagePipeline, ReplyWriter]:
    """`chat_api`: the pipeline and the writer it runs replies with, in process."""
    settings = get_settings(ApiSettings)
    return _pipeline_with_files(settings), _writer_with_files(settings)


@cache
def conversations() -> Conversations:
    """Conversation management; membership changes reach live sockets through `Rooms`; a
    deleted conversation's share links end at once."""
    managed = Conversations(get_store(), presence=presence(), catalog=model_catalog())
    managed.assistants = assistants()
    links = ShareRepository(chat_table())
    managed.on_deleted = lambda conversation_id: end_links(
        links, conversation_id, datetime.now(UTC)
    )
    return managed


@cache
def reply_feedback() -> ReplyFeedback:
    """Ratings of replies, counted per model: the one that wrote the reply."""
    return ReplyFeedback(get_store(), default_model=lambda: model_catalog()().default)


@cache
def change_feed() -> ChangeFeed:
    """`stream_processor`: every projection of `parley.changes`, over this cold start's store."""
    return ChangeFeed(projections(get_store()))


@cache
def maintenance() -> Maintenance:
    """The scheduled maintenance (`maintenance`)."""
    settings = get_settings(MaintenanceSettings)
    client = management_client()
    return Maintenance(
        store=get_store(),
        housekeeping=HousekeepingRepository(chat_table()),
        connections=connections_repository(),
        broadcaster=broadcaster(),
        quota=quota(settings),
        alive=lambda connection_id: connection_alive(client, connection_id),
    )


@cache
def s3_client() -> S3Client:
    """The exports bucket's client: Signature V4, as KMS-encrypted objects' links need."""
    settings = get_settings(ChatTableSettings)
    return boto3.client(
        "s3",
        region_name=settings.aws_region,
        config=Config(signature_version="s3v4", retries={"mode": "standard"}),
    )


@cache
def exports() -> Exports:
    """`chat_api`: asking for exports and reading their status."""
    settings = get_settings(ExportRequestSettings)
    workflows: Any = boto3.client(  # no stubs for Step Functions in the environment
        "stepfunctions",
        region_name=settings.aws_region,
        config=Config(retries={"mode": "standard"}),
    )
    s3 = s3_client()

    def start(name: str, document: str) -> None:
        workflows.start_execution(
            stateMachineArn=settings.export_state_machine_arn, name=name, input=document
        )

    def presign(key: str, file_name: str) -> str:
        return s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": settings.exports_bucket_name,
                "Key": key,
                "ResponseContentDisposition": f'attachment; filename="{file_name}"',
            },
            ExpiresIn=EXPORT_LINK_SECONDS,
        )

    return Exports(get_store(), ExportRepository(chat_table()), start=start, presign=presign)


def _snapshots() -> SnapshotBucket:
    settings = get_settings(ShareSettings)
    client = boto3.client(
        "s3", region_name=settings.aws_region, config=Config(retries={"mode": "standard"})
    )
    return SnapshotBucket(client, settings.shares_bucket_name)


@cache
def shares() -> Shares:
    """`chat_api`: the owner's share links of a conversation (`parley.shares`)."""
    return Shares(get_store(), ShareRepository(chat_table()), _snapshots())


@cache
def shared_reader() -> SharedReader:
    """`share_api`: one link's item and its snapshot, nothing else."""
    return SharedReader(ShareRepository(chat_table()), _snapshots())


@cache
def export_job() -> ExportJob:
    """`export_worker`: the steps of the export workflow."""
    settings = get_settings(ExportWorkerSettings)
    return ExportJob(
        store=get_store(),
        records=ExportRepository(chat_table()),
        s3=s3_client(),
        bucket=settings.exports_bucket_name,
        broadcaster=broadcaster(),
    )


# -- attachments -------------------------------------------------------------------------------
@cache
def attachments() -> Attachments | None:
    """Attachments (`parley.attachments`) over the uploads bucket; None without one."""
    settings = get_settings(UploadSettings)
    if not settings.uploads_bucket_name:
        return None
    client = boto3.client(
        "s3",
        region_name=settings.aws_region,
        config=Config(signature_version="s3v4", retries={"mode": "standard"}),
    )
    return Attachments(
        get_store(),
        UploadBucket(client, settings.uploads_bucket_name),
        UploadLimits(
            document_bytes=settings.upload_max_document_bytes,
            image_bytes=settings.upload_max_image_bytes,
            per_message=settings.upload_max_attachments,
        ),
        sees_images=settings.model_accepts_images,
        catalog=model_catalog(),
    )


def _pipeline_with_files(settings: ContextSettings) -> MessagePipeline:
    pipeline = _pipeline(settings)
    pipeline.attachments = attachments()
    return pipeline


def _writer_with_files(settings: WorkerSettings | ApiSettings) -> ReplyWriter:
    writer = _writer(settings)
    writer.attachments = attachments()
    return writer
