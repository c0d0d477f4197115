"""AWS deployment storage: S3 objects (SSE-KMS, SHA-256 checksums), DynamoDB checkpoints,
interruptions and the input index."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from renderfarm_dagster.keys import validate_foreign_key, validate_key
from renderfarm_dagster.storage import (
    CheckpointStore,
    InputIndex,
    Interruption,
    InterruptionLedger,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStore,
    ObjectSummary,
    OutputCheckpoint,
    ProductOutcome,
    s3_version,
)


class StorageIntegrityError(RuntimeError):
    """S3 stored something other than what was sent, or without the encryption asked for."""


def _b64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


def _hex_to_b64(value: str) -> str:
    return base64.b64encode(bytes.fromhex(value)).decode("ascii")


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "")


class S3ObjectStore(ObjectStore):
    """Objects at `s3://<bucket>/<key>`, encrypted with a customer-managed KMS key.

    Keys are the layout's keys unchanged (no deployment prefix), so the keys in S3 event
    notifications are the keys this store uses.
    """

    def __init__(self, client: Any, bucket: str, kms_key_id: str, list_page_size: int = 1000):
        self.client = client
        self.bucket = bucket
        self.kms_key_id = kms_key_id
        self.list_page_size = list_page_size

    def link(self, key: str) -> str:
        # The console's page of the object (for a signed-in user of the account): a
        # presigned URL would expire within 7 days, and the UI keeps the record for good.
        query = urlencode(
            {"region": self.client.meta.region_name, "prefix": validate_key(key)}, quote_via=quote
        )
        return f"https://console.aws.amazon.com/s3/object/{quote(self.bucket)}?{query}"

    def put(self, key: str, data: bytes, content_type: str) -> ObjectInfo:
        sha256 = hashlib.sha256(data).hexdigest()
        # S3 recomputes the SHA-256 and refuses the put (BadDigest) when it differs from the
        # one sent, so a corrupted upload never becomes an object.
        response = self.client.put_object(
            Bucket=self.bucket,
            Key=validate_key(key),
            Body=data,
            ContentType=content_type,
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=_hex_to_b64(sha256),
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=self.kms_key_id,
        )
        if response.get("ChecksumSHA256") != _hex_to_b64(sha256):
            raise StorageIntegrityError(
                f"s3 stored {key} with SHA-256 {response.get('ChecksumSHA256')!r}, not the one sent"
            )
        if response.get("ServerSideEncryption") != "aws:kms":
            raise StorageIntegrityError(
                f"s3 stored {key} with encryption {response.get('ServerSideEncryption')!r}, "
                "not aws:kms"
            )
        version = s3_version(response["ETag"], len(data))
        return ObjectInfo(key=key, size=len(data), sha256=sha256, version=version)

    def get(self, key: str) -> bytes:
        try:
            # ChecksumMode makes botocore verify the stored checksum against the bytes read.
            response = self.client.get_object(
                Bucket=self.bucket,
                Key=validate_foreign_key(key),
                ChecksumMode="ENABLED",
            )
        except ClientError as error:
            if _error_code(error) in ("NoSuchKey", "404"):
                raise ObjectNotFoundError(key) from None
            raise
        return response["Body"].read()

    def head(self, key: str) -> ObjectInfo | None:
        try:
            response = self.client.head_object(
                Bucket=self.bucket,
                Key=validate_foreign_key(key),
                ChecksumMode="ENABLED",
            )
        except ClientError as error:
            if _error_code(error) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise
        checksum = response.get("ChecksumSHA256")
        # Objects uploaded by others may have no checksum, or a multipart one ("...-3"), which
        # is not the SHA-256 of the bytes: only then is the object read to hash it.
        if checksum and "-" not in checksum:
            size = response["ContentLength"]
            # One response: the version and the checksum are of the same bytes.
            return ObjectInfo(
                key=key,
                size=size,
                sha256=_b64_to_hex(checksum),
                version=s3_version(response["ETag"], size),
            )
        try:
            data = self.get(key)
        except ObjectNotFoundError:
            return None
        return ObjectInfo(key=key, size=len(data), sha256=hashlib.sha256(data).hexdigest())

    def list(self, prefix: str, start_after: str = "") -> Iterator[ObjectSummary]:
        arguments: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": prefix,
            "PaginationConfig": {"PageSize": self.list_page_size},
        }
        if start_after:
            arguments["StartAfter"] = start_after
        # The paginator follows continuation tokens; pages are fetched only as they are read,
        # so a caller that stops early lists only what it used.
        for page in self.client.get_paginator("list_objects_v2").paginate(**arguments):
            for entry in page.get("Contents", []):
                yield ObjectSummary(
                    key=entry["Key"],
                    size=entry["Size"],
                    version=s3_version(entry["ETag"], entry["Size"]),
                )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=validate_foreign_key(key))


# The one table holds checkpoints and interruptions (single-table design): infra and the tests
# create it from this definition.
TABLE_KEY_SCHEMA = [
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
]
PENDING_INDEX = "pending"
TABLE_ATTRIBUTES = [
    {"AttributeName": "pk", "AttributeType": "S"},
    {"AttributeName": "sk", "AttributeType": "S"},
    {"AttributeName": "pending", "AttributeType": "S"},
    {"AttributeName": "recorded_at", "AttributeType": "N"},
]
# Sparse: only unsettled interruptions carry the "pending" attribute, so the index holds exactly
# the work still to do and a query of it costs nothing per settled record.
TABLE_INDEXES = [
    {
        "IndexName": PENDING_INDEX,
        "KeySchema": [
            {"AttributeName": "pending", "KeyType": "HASH"},
            {"AttributeName": "recorded_at", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
]
TTL_ATTRIBUTE = "expires_at"
# The checkpoint's fields stored as item attributes (its product, variant and output are keys).
_CHECKPOINT_FIELDS = (
    "key",
    "fingerprint",
    "sha256",
    "size",
    "format",
    "width",
    "height",
    "run_id",
    "attempt",
)
_SERIALIZER, _DESERIALIZER = TypeSerializer(), TypeDeserializer()


def _item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Python values as DynamoDB attribute values (boto3's serializer; floats as Decimal)."""
    return {
        name: _SERIALIZER.serialize(Decimal(repr(value)) if isinstance(value, float) else value)
        for name, value in values.items()
    }


def _values(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item's attributes as Python values; whole numbers as int."""
    values = {name: _DESERIALIZER.deserialize(value) for name, value in item.items()}
    return {
        name: int(value) if isinstance(value, Decimal) and value == value.to_integral() else value
        for name, value in values.items()
    }


# Sort keys of a product's checkpoint items: one per output, one per request's outcome.
_OUTPUT_PREFIX, _OUTCOME_PREFIX = "output#", "outcome#"


def _product_pk(product_id: str) -> str:
    return f"product#{product_id}"


# BatchWriteItem takes at most 25 requests, BatchGetItem 100 keys.
_WRITE_BATCH, _GET_BATCH = 25, 100
# Unprocessed items (throttling) are retried after this many seconds, doubling, this many times.
_BATCH_RETRY_S, _BATCH_RETRIES = 0.05, 8


class _DynamoTable:
    """The deployment's one DynamoDB table; every item expires `ttl_days` after its write."""

    def __init__(self, client: Any, table: str, ttl_days: int):
        self.client = client
        self.table = table
        self.ttl_s = ttl_days * 86_400

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        for start in range(0, len(requests), _WRITE_BATCH):
            pending = {self.table: requests[start : start + _WRITE_BATCH]}
            for attempt in range(_BATCH_RETRIES + 1):
                pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems")
                if not pending:
                    break
                time.sleep(_BATCH_RETRY_S * 2**attempt)
            else:
                raise RuntimeError(f"DynamoDB kept writes to {self.table} unprocessed")

    def _batch_get(self, item_keys: Sequence[Mapping[str, str]]) -> Iterator[dict[str, Any]]:
        """The items at these keys that exist (strongly consistent reads), as Python values."""
        for start in range(0, len(item_keys), _GET_BATCH):
            request = {
                self.table: {
                    "Keys": [_item(key) for key in item_keys[start : start + _GET_BATCH]],
                    "ConsistentRead": True,
                }
            }
            for attempt in range(_BATCH_RETRIES + 1):
                response = self.client.batch_get_item(RequestItems=request)
                yield from map(_values, response["Responses"].get(self.table, []))
                request = response.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(_BATCH_RETRY_S * 2**attempt)
            else:
                raise RuntimeError(f"DynamoDB kept {len(request)} key(s) of {self.table} unread")

    def _query(self, **arguments: Any) -> Iterator[dict[str, Any]]:
        """Every item a query finds, page after page, as Python values."""
        pages = self.client.get_paginator("query").paginate(TableName=self.table, **arguments)
        for page in pages:
            yield from map(_values, page["Items"])


class DynamoCheckpointStore(_DynamoTable, CheckpointStore):
    """Checkpoints as items `product#<id>` / `output#<variant>#<output>`, expiring after a TTL."""

    def record(self, checkpoints: Sequence[OutputCheckpoint]) -> None:
        expires_at = int(time.time()) + self.ttl_s
        for checkpoint in checkpoints:
            item = _item(
                {
                    "pk": _product_pk(checkpoint.product_id),
                    "sk": f"{_OUTPUT_PREFIX}{checkpoint.variant_id}#{checkpoint.output_name}",
                    TTL_ATTRIBUTE: expires_at,
                    **{name: getattr(checkpoint, name) for name in _CHECKPOINT_FIELDS},
                }
            )
            try:
                # Conditional: a replay or a newer attempt writes; an older attempt does not.
                self.client.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(pk) OR attempt <= :attempt",
                    ExpressionAttributeValues=_item({":attempt": checkpoint.attempt}),
                )
            except ClientError as error:
                if _error_code(error) != "ConditionalCheckFailedException":
                    raise

    def read(self, product_id: str) -> dict[tuple[str, str], OutputCheckpoint]:
        found = {}
        for values in self._items(product_id, _OUTPUT_PREFIX):
            _, variant_id, output_name = values["sk"].split("#", 2)
            found[(variant_id, output_name)] = OutputCheckpoint(
                product_id=product_id,
                variant_id=variant_id,
                output_name=output_name,
                **{name: values[name] for name in _CHECKPOINT_FIELDS},
            )
        return found

    def record_outcome(self, outcome: ProductOutcome) -> None:
        self.client.put_item(
            TableName=self.table,
            Item=_item(
                {
                    **self._outcome_key(outcome.product_id, outcome.request_id),
                    TTL_ATTRIBUTE: int(time.time()) + self.ttl_s,
                    "published": outcome.published,
                    "detail": outcome.detail,
                    "run_id": outcome.run_id,
                }
            ),
        )

    def outcomes(self, request_id: str, product_ids: Collection[str]) -> dict[str, ProductOutcome]:
        found = self._batch_get(
            [self._outcome_key(product_id, request_id) for product_id in sorted(set(product_ids))]
        )
        return {
            product_id: ProductOutcome(
                product_id, request_id, values["published"], values["detail"], values["run_id"]
            )
            for values in found
            for product_id in [values["pk"].removeprefix("product#")]
        }

    def forget(self, product_id: str) -> None:
        # The input index keeps its own items under the same partition key: only checkpoint
        # items are deleted here.
        doomed = [
            {"pk": values["pk"], "sk": values["sk"]}
            for prefix in (_OUTPUT_PREFIX, _OUTCOME_PREFIX)
            for values in self._items(product_id, prefix)
        ]
        self._batch_write([{"DeleteRequest": {"Key": _item(key)}} for key in doomed])

    def _items(self, product_id: str, sort_key_prefix: str) -> Iterator[dict[str, Any]]:
        return self._query(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=_item(
                {":pk": _product_pk(product_id), ":prefix": sort_key_prefix}
            ),
            ConsistentRead=True,
        )

    @staticmethod
    def _outcome_key(product_id: str, request_id: str) -> dict[str, str]:
        return {"pk": _product_pk(product_id), "sk": f"{_OUTCOME_PREFIX}{request_id}"}


class DynamoInterruptionLedger(_DynamoTable, InterruptionLedger):
    """Interruptions as items `interruption#<run_id>`, pending ones in a sparse index."""

    def record(self, interruption: Interruption) -> bool:
        try:
            self.client.put_item(
                TableName=self.table,
                Item=_item(
                    {
                        "pk": f"interruption#{interruption.run_id}",
                        "sk": "interruption",
                        "run_id": interruption.run_id,
                        "task_arn": interruption.task_arn,
                        "event_id": interruption.event_id,
                        "recorded_at": float(interruption.recorded_at),
                        "pending": "interruption",
                        TTL_ATTRIBUTE: int(interruption.recorded_at) + self.ttl_s,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as error:
            if _error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def pending(self, limit: int) -> list[Interruption]:
        response = self.client.query(
            TableName=self.table,
            IndexName=PENDING_INDEX,
            KeyConditionExpression="#pending = :pending",
            ExpressionAttributeNames={"#pending": "pending"},
            ExpressionAttributeValues=_item({":pending": "interruption"}),
            Limit=limit,
        )
        return [
            Interruption(
                run_id=values["run_id"],
                task_arn=values["task_arn"],
                event_id=values["event_id"],
                recorded_at=float(values["recorded_at"]),
            )
            for values in map(_values, response["Items"])
        ]

    def settle(self, run_id: str) -> None:
        # UpdateItem creates a missing item (an upsert): without the condition, settling a run
        # never recorded would leave an item with neither the run's fields nor a TTL, and that
        # run's real interruption would later be refused by record() and never retried.
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_item({"pk": f"interruption#{run_id}", "sk": "interruption"}),
                UpdateExpression="REMOVE #pending",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#pending": "pending"},
            )
        except ClientError as error:
            if _error_code(error) != "ConditionalCheckFailedException":
                raise


class DynamoInputIndex(_DynamoTable, InputIndex):
    """Edges `input#<key>` / `product#<id>` (with the sha256 the product was requested with),
    each product's set at `product#<id>` / `inputs`,
    and the sha256 last acted on at `seen#<key>` / `seen`. No TTL: they live as long as the
    products that use them."""

    def record(self, product_id: str, inputs: Mapping[str, str]) -> None:
        wanted = sorted(inputs)
        product_key = {"pk": _product_pk(product_id), "sk": "inputs"}
        before = self.client.get_item(
            TableName=self.table, Key=_item(product_key), ConsistentRead=True
        ).get("Item", {})
        previous = _values(before).get("input_keys", [])
        # New edges first, stale ones last: a crash in between leaves an extra edge (one
        # needless look at the product), never a missing one.
        self._batch_write(
            [
                {"PutRequest": {"Item": _item({**self._edge(key, product_id), "sha256": sha})}}
                for key, sha in sorted(inputs.items())
            ]
            + [{"PutRequest": {"Item": _item({**product_key, "input_keys": wanted})}}]
        )
        self._batch_write(
            [
                {"DeleteRequest": {"Key": _item(self._edge(key, product_id))}}
                for key in previous
                if key not in wanted
            ]
        )

    def inputs_of(self, product_id: str) -> dict[str, str]:
        product = self.client.get_item(
            TableName=self.table,
            Key=_item({"pk": _product_pk(product_id), "sk": "inputs"}),
            ConsistentRead=True,
        ).get("Item", {})
        input_keys = _values(product).get("input_keys", [])
        return {
            values["pk"].removeprefix("input#"): values["sha256"]
            for values in self._batch_get([self._edge(key, product_id) for key in input_keys])
        }

    def users(self, input_key: str, after: str = "", limit: int = 1000) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        arguments: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk > :after",
            "ExpressionAttributeValues": _item(
                {":pk": f"input#{input_key}", ":after": f"product#{after}"}
            ),
            "ConsistentRead": True,
        }
        while len(found) < limit:
            response = self.client.query(**arguments, Limit=limit - len(found))
            found += [
                (values["sk"].removeprefix("product#"), values["sha256"])
                for values in map(_values, response["Items"])
            ]
            if "LastEvaluatedKey" not in response:
                break
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found

    def seen(self, input_keys: Collection[str]) -> dict[str, str]:
        return {
            values["pk"].removeprefix("seen#"): values["sha256"]
            for values in self._batch_get([self._seen_key(key) for key in sorted(set(input_keys))])
        }

    def see(self, sha256s: Mapping[str, str]) -> None:
        self._batch_write(
            [
                {"PutRequest": {"Item": _item({**self._seen_key(key), "sha256": sha256})}}
                for key, sha256 in sorted(sha256s.items())
            ]
        )

    def unsee(self, input_keys: Collection[str]) -> None:
        self._batch_write(
            [
                {"DeleteRequest": {"Key": _item(self._seen_key(key))}}
                for key in sorted(set(input_keys))
            ]
        )

    @staticmethod
    def _edge(input_key: str, product_id: str) -> dict[str, str]:
        return {"pk": f"input#{input_key}", "sk": f"product#{product_id}"}

    @staticmethod
    def _seen_key(input_key: str) -> dict[str, str]:
        return {"pk": f"seen#{input_key}", "sk": "seen"}
