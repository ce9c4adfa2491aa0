"""The S3 backup store: verified backups of every original, and the run record.

Safety rule 1 (DESIGN.md): no change without a verified backup. The bucket must have versioning
on, or the store refuses to start; every object is written with server-side encryption, read
back by its VersionId and compared by SHA-256 before anyone may rely on it. Any failure raises
``BackupError`` with the reason; nothing here catches and carries on.

Layout: ``s3://BUCKET/PREFIX/RUN_ID/ACCOUNT/REGION/KEY_ID.json`` and ``PREFIX/RUN_ID/run.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from remediator.aws.calls import ShardCaller
from remediator.aws.ratelimit import RateLimiter
from remediator.aws.retry import (
    AWS_ERRORS,
    DEFAULT_RETRY,
    RetryPolicy,
    call_with_retry,
    error_reason,
)
from remediator.config import Backup
from remediator.errors import BackupError
from remediator.snapshot import canonical_json

log = structlog.get_logger(__name__)

RUN_RECORD = "run.json"
_RUN_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_KEY_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,128}$")


@dataclass(frozen=True, slots=True)
class BackupRef:
    """Where a verified object is: bucket, key and version, and the SHA-256 of its bytes."""

    bucket: str
    key: str
    version_id: str
    sha256: str

    def to_dict(self) -> dict[str, str]:
        return {k: getattr(self, k) for k in ("bucket", "key", "version_id", "sha256")}


def new_run_id() -> str:
    """A run id that sorts by time: ``20250131T120000Z-1a2b3c4d``."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


class BackupStore:
    """Backups and run records in one versioned bucket; open it with ``BackupStore.open``."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        prefix: str,
        kms_key_id: str | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.kms_key_id = kms_key_id
        self._caller = ShardCaller("backup", bucket, RateLimiter.unlimited(), retry)

    @classmethod
    def open(
        cls,
        s3: Any,
        bucket: str,
        prefix: str,
        kms_key_id: str | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> BackupStore:
        """A store on ``bucket``, after checking that its versioning is on."""
        store = cls(s3, bucket, prefix, kms_key_id, retry)
        store.check_versioning()
        return store

    @classmethod
    def from_config(
        cls, s3: Any, backup: Backup, retry: RetryPolicy = DEFAULT_RETRY
    ) -> BackupStore:
        """``open`` with the ``backup`` section of the config."""
        return cls.open(s3, backup.bucket, backup.prefix, backup.kms_key_id, retry)

    def check_versioning(self) -> None:
        """Refuse (BackupError) unless the bucket's versioning status is Enabled."""
        try:
            status = self._caller.call(self.s3, "GetBucketVersioning", Bucket=self.bucket)
        except AWS_ERRORS as exc:
            raise BackupError(
                f"Cannot read the versioning of backup bucket {self.bucket}: {error_reason(exc)}."
            ) from exc
        if status.get("Status") != "Enabled":
            raise BackupError(
                f"Backup bucket {self.bucket} does not have versioning enabled "
                f"(status: {status.get('Status') or 'never enabled'}); enable it before a run, "
                "so that no backup can be overwritten."
            )

    def backup_key(self, run_id: str, account: str, region: str, key_id: str) -> str:
        """The object key of one key's backup; every part is checked, none can add a path."""
        _check(run_id, _RUN_ID_RE, "run id")
        _check(account, _ACCOUNT_RE, "account id")
        _check(region, _REGION_RE, "Region")
        _check(key_id, _KEY_ID_RE, "key id")
        return f"{self.prefix}/{run_id}/{account}/{region}/{key_id}.json"

    def run_key(self, run_id: str) -> str:
        _check(run_id, _RUN_ID_RE, "run id")
        return f"{self.prefix}/{run_id}/{RUN_RECORD}"

    def put_backup(
        self, run_id: str, account: str, region: str, key_id: str, payload: Mapping[str, Any]
    ) -> BackupRef:
        """Write one key's original (policy, grants, metadata, plan digest) and verify it."""
        ref = self._put_verified(self.backup_key(run_id, account, region, key_id), payload)
        log.info("backup.put", run_id=run_id, key=ref.key, version_id=ref.version_id)
        return ref

    def get_backup(self, ref: BackupRef) -> dict[str, Any]:
        """The backup ``ref`` names, checked against its SHA-256."""
        return self._get_verified(ref.key, ref.version_id, ref.sha256)

    def put_run_record(self, run_id: str, record: Mapping[str, Any]) -> BackupRef:
        """Write (or replace: the bucket keeps every version) the run record."""
        ref = self._put_verified(self.run_key(run_id), record)
        log.info("backup.run_record", run_id=run_id, version_id=ref.version_id)
        return ref

    def get_run_record(self, run_id: str, version_id: str | None = None) -> dict[str, Any]:
        """The latest (or the given version of the) run record."""
        return self._get_verified(self.run_key(run_id), version_id, None)

    def list_runs(self) -> list[str]:
        """Every run id under the prefix, oldest first (run ids sort by time)."""
        try:
            pages = list(
                self._caller.pages(
                    self.s3,
                    "ListObjectsV2",
                    Bucket=self.bucket,
                    Prefix=f"{self.prefix}/",
                    Delimiter="/",
                )
            )
        except AWS_ERRORS as exc:
            raise BackupError(
                f"Cannot list runs in s3://{self.bucket}/{self.prefix}/: {error_reason(exc)}."
            ) from exc
        prefixes = [p["Prefix"] for page in pages for p in page.get("CommonPrefixes", [])]
        return sorted(p[len(self.prefix) + 1 :].rstrip("/") for p in prefixes)

    def _put_verified(self, key: str, payload: Mapping[str, Any]) -> BackupRef:
        body = canonical_json(payload).encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()
        try:
            response = self._caller.call(
                self.s3, "PutObject", **self._put_params(key, body, digest)
            )
        except AWS_ERRORS as exc:
            raise BackupError(
                f"Cannot write s3://{self.bucket}/{key}: {error_reason(exc)}."
            ) from exc
        version = response.get("VersionId")
        if not version or version == "null":
            raise BackupError(
                f"s3://{self.bucket}/{key} was written without a version id; versioning is off."
            )
        self._check_encryption(key, response)
        self._get_verified(key, version, digest)
        return BackupRef(self.bucket, key, version, digest)

    def _put_params(self, key: str, body: bytes, digest: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": body,
            "ContentType": "application/json",
            "Metadata": {"sha256": digest},
        }
        if self.kms_key_id:
            params.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=self.kms_key_id)
        else:
            params["ServerSideEncryption"] = "AES256"
        return params

    def _check_encryption(self, key: str, response: Mapping[str, Any]) -> None:
        wanted = "aws:kms" if self.kms_key_id else "AES256"
        if response.get("ServerSideEncryption") != wanted:
            raise BackupError(
                f"s3://{self.bucket}/{key} was stored with encryption "
                f"{response.get('ServerSideEncryption')!r}, not {wanted!r}."
            )

    def _get_verified(self, key: str, version: str | None, digest: str | None) -> dict[str, Any]:
        body = self._read(key, version)
        actual = hashlib.sha256(body).hexdigest()
        if digest is not None and actual != digest:
            raise BackupError(
                f"s3://{self.bucket}/{key} (version {version}) reads back with SHA-256 {actual}, "
                f"not the {digest} written."
            )
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise BackupError(f"s3://{self.bucket}/{key} is not valid JSON: {exc}.") from exc
        if not isinstance(data, dict):
            raise BackupError(f"s3://{self.bucket}/{key} does not hold a JSON object.")
        return data

    def _read(self, key: str, version: str | None) -> bytes:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version is not None:
            params["VersionId"] = version

        def fetch() -> bytes:
            body: bytes = self.s3.get_object(**params)["Body"].read()
            return body

        try:
            return call_with_retry(fetch, "GetObject", self._caller.retry)
        except AWS_ERRORS as exc:
            raise BackupError(
                f"Cannot read back s3://{self.bucket}/{key} (version {version}): "
                f"{error_reason(exc)}."
            ) from exc


def _check(value: str, pattern: re.Pattern[str], what: str) -> None:
    if not pattern.match(value):
        raise BackupError(f"Refusing to build a backup path from the {what} {value!r}.")
