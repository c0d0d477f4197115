"""What the S3 and DynamoDB adapters add beyond the shared contract: encryption, checksums, TTL."""

import base64
import hashlib
import json
import time

import pytest

from renderfarm_dagster.deployment import resources, storage
from renderfarm_dagster.messaging import PRODUCT_RENDERED, RENDER_FAILED
from renderfarm_dagster.storage import OutputCheckpoint
from renderfarm_dagster.storage.aws import S3ObjectStore


@pytest.fixture
def aws_storage(aws):
    with storage() as initialized:
        yield initialized


def test_every_object_is_encrypted_with_the_kms_key_and_carries_its_sha256(aws, aws_storage):
    info = aws_storage.objects().put("renders/p1/v1/hero.png", b"pixels", "image/png")
    head = aws.client("s3").head_object(
        Bucket=aws.bucket, Key="renders/p1/v1/hero.png", ChecksumMode="ENABLED"
    )
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(aws.kms_key_id)
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == info.sha256
    assert head["ContentType"] == "image/png"


def test_head_of_an_upload_without_checksum_hashes_its_bytes(aws, aws_storage):
    # Specs are uploaded by other tools, which may send no checksum at all.
    aws.client("s3").put_object(Bucket=aws.bucket, Key="specs/p1.json", Body=b"{}")
    info = aws_storage.objects().head("specs/p1.json")
    assert info.sha256 == hashlib.sha256(b"{}").hexdigest() and info.size == 2


def test_listing_follows_continuation_tokens(aws, aws_storage):
    s3 = aws.client("s3")
    for index in range(7):
        s3.put_object(Bucket=aws.bucket, Key=f"previews/p{index}.jpg", Body=b"jpeg")
    objects = S3ObjectStore(s3, aws.bucket, aws.kms_key_id, list_page_size=2)
    keys = [s.key for s in objects.list("previews/")]
    assert keys == [f"previews/p{index}.jpg" for index in range(7)]
    assert [s.key for s in objects.list("previews/", "previews/p4.jpg")] == [
        "previews/p5.jpg",
        "previews/p6.jpg",
    ]


def test_checkpoints_carry_a_ttl(aws, aws_storage):
    aws_storage.checkpoints().record(
        [
            OutputCheckpoint(
                "p1", "v1", "hero", "renders/p1/v1/hero.png", "f", "s", 1, "png", 1, 1, "r"
            )
        ]
    )
    (item,) = aws.client("dynamodb").scan(TableName=aws.table)["Items"]
    expires_at = int(item["expires_at"]["N"])
    assert time.time() + 80 * 86_400 < expires_at < time.time() + 100 * 86_400


def test_each_notification_goes_to_its_own_topic(aws):
    with resources()["messaging"].process_config_and_initialize_cm() as messaging:
        notifier = messaging.notifier()
        notifier.publish(PRODUCT_RENDERED, {"product_id": "shoe", "run_id": "r1"})
        notifier.publish(RENDER_FAILED, {"run_id": "r2", "reasons": ["boom"]})
        with pytest.raises(ValueError, match="no SNS topic for 'product_deleted'"):
            notifier.publish("product_deleted", {"product_id": "shoe"})

    by_event = {
        envelope["MessageAttributes"]["event"]["Value"]: envelope
        for envelope in aws.sns_envelopes(expect=2)
    }
    assert by_event.keys() == {PRODUCT_RENDERED, RENDER_FAILED}
    assert by_event[PRODUCT_RENDERED]["TopicArn"] == aws.completion_topic_arn
    assert by_event[RENDER_FAILED]["TopicArn"] == aws.failure_topic_arn
    assert json.loads(by_event[RENDER_FAILED]["Message"]) == {
        "event": RENDER_FAILED,
        "run_id": "r2",
        "reasons": ["boom"],
    }
