"""S3 access through the minio client: the same code talks to MinIO and SeaweedFS.

The evidence bucket is created with object lock (which implies versioning) and every object
is written with a retention period, so stored evidence cannot be deleted or replaced in
place: a rewrite becomes a new version beside the original, which verification detects.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import ENABLED
from minio.error import S3Error
from minio.retention import Retention
from minio.versioningconfig import VersioningConfig

from dozor.settings import Settings

#: S3 error codes meaning "this object (version) is not there".
MISSING_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "NoSuchVersion"})


def s3_client(settings: Settings) -> Minio:
    # minio's own pool waits five minutes per read and retries five times: a hung S3 would
    # hold a camera's analysis or a consumer's partition for half an hour per call.
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(
            connect=settings.s3_connect_timeout_s, read=settings.s3_read_timeout_s
        ),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=certifi.where(),
        retries=urllib3.Retry(
            total=settings.s3_retries, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]
        ),
    )
    return Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        region=settings.s3_region,
        http_client=http,
    )


def ensure_bucket(client: Minio, bucket: str, *, object_lock: bool) -> None:
    """Create the bucket if missing; object lock can only be switched on at creation."""
    if not client.bucket_exists(bucket):
        try:
            client.make_bucket(bucket, object_lock=object_lock)
        except S3Error as exc:
            if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
    if object_lock:
        # Object lock implies versioning on S3; saying so explicitly covers stores that
        # created the bucket without it.
        client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    sha256: str
    size: int
    content_type: str
    version_id: str | None = None


@dataclass(frozen=True)
class Fetched:
    data: bytes
    version_id: str | None


@dataclass(frozen=True)
class ObjectVersion:
    # No "is latest" flag: SeaweedFS marks every version latest, so callers compare sets.
    version_id: str | None
    is_delete_marker: bool


class ObjectStore:
    """Content-addressed, retained writes and verified reads of evidence objects."""

    def __init__(self, settings: Settings, client: Minio | None = None) -> None:
        self.client = client or s3_client(settings)
        self.bucket = settings.s3_bucket
        self.presign_ttl = timedelta(seconds=settings.presign_ttl_s)
        self.retention_days = settings.evidence_retention_days
        self.retention_mode = settings.evidence_retention_mode

    def ensure(self) -> None:
        ensure_bucket(self.client, self.bucket, object_lock=True)

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        """Store ``data`` under retention; an identical object already there is kept as is,
        so replays and takeovers do not pile up versions of the same evidence."""
        digest = sha256_hex(data)
        try:
            existing = self.client.stat_object(self.bucket, key)
        except S3Error as exc:
            if exc.code not in MISSING_CODES:
                raise
        else:
            if existing.metadata.get("x-amz-meta-sha256") == digest and existing.size == len(data):
                return StoredObject(
                    self.bucket, key, digest, len(data), content_type, existing.version_id
                )
        until = datetime.now(UTC) + timedelta(days=self.retention_days)
        result = self.client.put_object(
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
            metadata={"sha256": digest},
            retention=Retention(self.retention_mode, until),
        )
        return StoredObject(self.bucket, key, digest, len(data), content_type, result.version_id)

    def fetch(self, bucket: str, key: str, version_id: str | None = None) -> Fetched:
        """The object's bytes and the version they came from (the latest if none is named)."""
        resp = self.client.get_object(bucket, key, version_id=version_id)
        try:
            return Fetched(resp.read(), resp.headers.get("x-amz-version-id"))
        finally:
            resp.close()
            resp.release_conn()

    def get(self, bucket: str, key: str, version_id: str | None = None) -> bytes:
        return self.fetch(bucket, key, version_id).data

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self.client.stat_object(bucket, key)
        except S3Error as exc:
            if exc.code in MISSING_CODES:
                return False
            raise
        return True

    def versions(self, bucket: str, key: str) -> list[ObjectVersion]:
        """Every version of exactly ``key``, delete markers included, in no promised order."""
        return [
            ObjectVersion(o.version_id, bool(o.is_delete_marker))
            for o in self.client.list_objects(bucket, prefix=key, include_version=True)
            if o.object_name == key
        ]

    def presigned_get(self, bucket: str, key: str) -> str:
        return self.client.presigned_get_object(bucket, key, expires=self.presign_ttl)
