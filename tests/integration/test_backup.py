"""The S3 backup store against a real moto server: versioning, SSE, SHA-256, run records."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pytest
from botocore.response import StreamingBody

from remediator.aws.backup import BackupStore, new_run_id
from remediator.aws.faults import Fault, FaultInjector, url_contains
from remediator.aws.retry import RetryPolicy
from remediator.config import Backup
from remediator.errors import BackupError
from remediator.localaws import LocalAws

pytestmark = pytest.mark.integration

VERSIONED, UNVERSIONED, SUSPENDED = "backups-versioned", "backups-plain", "backups-suspended"
ACCOUNT, REGION, KEY_ID = "111111111111", "eu-west-1", "1234abcd-12ab-34cd-56ef-1234567890ab"
FAST_RETRY = RetryPolicy(attempts=3, base=0.001, max_wait=0.01)
PAYLOAD = {
    "plan_digest": "ab" * 32,
    "policy": {"Version": "2012-10-17", "Statement": []},
    "grants": [{"GrantId": "g1", "GranteePrincipal": "arn:aws:iam::999999999999:root"}],
    "describe_key": {"KeyId": KEY_ID, "KeyState": "Enabled"},
}


@pytest.fixture(scope="module")
def aws(fresh_aws: LocalAws) -> LocalAws:
    s3 = fresh_aws.client("s3")
    for bucket in (VERSIONED, UNVERSIONED, SUSPENDED):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=VERSIONED, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket=SUSPENDED, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_versioning(Bucket=SUSPENDED, VersioningConfiguration={"Status": "Suspended"})
    return fresh_aws


def _s3(aws: LocalAws) -> Any:
    return aws.client("s3")  # a new client per test: hooks installed by one test stay there


def test_refuses_a_bucket_without_versioning(aws: LocalAws) -> None:
    with pytest.raises(BackupError, match="does not have versioning enabled"):
        BackupStore.open(_s3(aws), UNVERSIONED, "kms-remediator")


def test_refuses_a_bucket_whose_versioning_is_suspended(aws: LocalAws) -> None:
    with pytest.raises(BackupError, match=r"status: Suspended"):
        BackupStore.open(_s3(aws), SUSPENDED, "kms-remediator")


def test_refuses_a_missing_bucket(aws: LocalAws) -> None:
    with pytest.raises(BackupError, match="NoSuchBucket"):
        BackupStore.open(_s3(aws), "no-such-backup-bucket", "kms-remediator")


def test_backup_is_written_encrypted_and_verified(aws: LocalAws) -> None:
    s3 = _s3(aws)
    store = BackupStore.from_config(s3, Backup(bucket=VERSIONED, prefix="/kms-remediator/"))
    run_id = new_run_id()
    ref = store.put_backup(run_id, ACCOUNT, REGION, KEY_ID, PAYLOAD)
    assert ref.key == f"kms-remediator/{run_id}/{ACCOUNT}/{REGION}/{KEY_ID}.json"
    obj = s3.get_object(Bucket=VERSIONED, Key=ref.key, VersionId=ref.version_id)
    body = obj["Body"].read()
    assert hashlib.sha256(body).hexdigest() == ref.sha256
    assert obj["ServerSideEncryption"] == "AES256"
    assert obj["Metadata"]["sha256"] == ref.sha256
    assert json.loads(body) == PAYLOAD
    assert store.get_backup(ref) == PAYLOAD


def test_backup_uses_sse_kms_with_the_configured_key(aws: LocalAws) -> None:
    s3 = _s3(aws)
    key_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/{KEY_ID}"
    store = BackupStore.open(s3, VERSIONED, "kms", kms_key_id=key_arn)
    ref = store.put_backup(new_run_id(), ACCOUNT, REGION, KEY_ID, PAYLOAD)
    head = s3.head_object(Bucket=VERSIONED, Key=ref.key, VersionId=ref.version_id)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key_arn


def test_a_backup_that_reads_back_different_is_refused(aws: LocalAws) -> None:
    s3 = _s3(aws)
    tampered = b'{"policy":"not what was written"}'

    def corrupt(parsed: dict[str, Any], **_: Any) -> None:
        if "Body" in parsed:
            parsed["Body"] = StreamingBody(io.BytesIO(tampered), len(tampered))

    s3.meta.events.register("after-call.s3.GetObject", corrupt)
    store = BackupStore.open(s3, VERSIONED, "kms-remediator")
    with pytest.raises(BackupError, match="reads back with SHA-256"):
        store.put_backup(new_run_id(), ACCOUNT, REGION, KEY_ID, PAYLOAD)


def test_a_write_failure_raises_with_the_reason(aws: LocalAws) -> None:
    s3 = _s3(aws)
    FaultInjector(Fault("PutObject", code="AccessDenied", status=403)).install(s3)
    store = BackupStore.open(s3, VERSIONED, "kms-remediator", retry=FAST_RETRY)
    with pytest.raises(BackupError, match=r"Cannot write .*AccessDenied"):
        store.put_backup(new_run_id(), ACCOUNT, REGION, KEY_ID, PAYLOAD)


def test_a_5xx_on_write_is_retried(aws: LocalAws) -> None:
    s3 = _s3(aws)
    busy = Fault("PutObject", code="SlowDown", status=503, times=2)
    FaultInjector(busy).install(s3)
    store = BackupStore.open(s3, VERSIONED, "kms-remediator", retry=FAST_RETRY)
    ref = store.put_backup(new_run_id(), ACCOUNT, REGION, KEY_ID, PAYLOAD)
    assert busy.injected == 2
    assert store.get_backup(ref) == PAYLOAD


def test_a_read_back_failure_is_a_backup_error(aws: LocalAws) -> None:
    s3 = _s3(aws)
    FaultInjector(Fault("GetObject", code="InternalError", status=500)).install(s3)
    store = BackupStore.open(s3, VERSIONED, "kms-remediator", retry=FAST_RETRY)
    with pytest.raises(BackupError, match="Cannot read back"):
        store.put_backup(new_run_id(), ACCOUNT, REGION, KEY_ID, PAYLOAD)


def test_paths_cannot_be_steered_outside_the_run(aws: LocalAws) -> None:
    store = BackupStore(_s3(aws), VERSIONED, "kms-remediator")
    with pytest.raises(BackupError, match="key id"):
        store.backup_key("run-1", ACCOUNT, REGION, "../../escape")
    with pytest.raises(BackupError, match="run id"):
        store.run_key("../other")
    with pytest.raises(BackupError, match="account id"):
        store.backup_key("run-1", "1234", REGION, KEY_ID)


def test_run_record_round_trip_and_updates(aws: LocalAws) -> None:
    store = BackupStore.open(_s3(aws), VERSIONED, "runs-test")
    run_id = new_run_id()
    first = store.put_run_record(run_id, {"run_id": run_id, "state": "started", "keys": []})
    record = {"run_id": run_id, "state": "applied", "keys": [{"key_id": KEY_ID}]}
    second = store.put_run_record(run_id, record)
    assert second.version_id != first.version_id
    assert store.get_run_record(run_id) == record
    assert store.get_run_record(run_id, first.version_id)["state"] == "started"


def test_list_runs_oldest_first(aws: LocalAws) -> None:
    store = BackupStore.open(_s3(aws), VERSIONED, "list-test")
    run_ids = ["20250101T000000Z-aaaaaaaa", "20250102T000000Z-bbbbbbbb", new_run_id()]
    for run_id in reversed(run_ids):
        store.put_run_record(run_id, {"run_id": run_id})
        store.put_backup(run_id, ACCOUNT, REGION, KEY_ID, PAYLOAD)
    assert store.list_runs() == run_ids


def test_list_runs_reads_every_page(aws: LocalAws) -> None:
    s3 = _s3(aws)
    store = BackupStore.open(s3, VERSIONED, "paged-test")
    run_ids = [f"2025010{i}T000000Z-0000000{i}" for i in range(1, 4)]
    for run_id in run_ids:
        store.put_run_record(run_id, {"run_id": run_id})
    listings = Fault(
        "ListObjectsV2", code="SlowDown", status=503, times=1, match=url_contains("paged-test")
    )
    FaultInjector(listings).install(s3)
    assert store.list_runs() == run_ids
    assert listings.injected == 1
