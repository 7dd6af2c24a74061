"""S3 access through the minio client: the same code talks to MinIO and SeaweedFS."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from datetime import timedelta

from minio import Minio
from minio.error import S3Error

from dozor.settings import Settings


def s3_client(settings: Settings) -> Minio:
    return Minio(
        settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_secure,
        region=settings.s3_region,
    )


def ensure_bucket(client: Minio, bucket: str, *, object_lock: bool) -> None:
    """Create the bucket if missing; object lock can only be switched on at creation."""
    if client.bucket_exists(bucket):
        return
    try:
        client.make_bucket(bucket, object_lock=object_lock)
    except S3Error as exc:
        if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
            raise


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    sha256: str
    size: int
    content_type: str


class ObjectStore:
    """Content-addressed writes and verified reads of evidence objects."""

    def __init__(self, settings: Settings, client: Minio | None = None) -> None:
        self.client = client or s3_client(settings)
        self.bucket = settings.s3_bucket
        self.presign_ttl = timedelta(seconds=settings.presign_ttl_s)

    def ensure(self) -> None:
        ensure_bucket(self.client, self.bucket, object_lock=True)

    def put(self, key: str, data: bytes, content_type: str) -> StoredObject:
        digest = sha256_hex(data)
        self.client.put_object(
            self.bucket,
            key,
            io.BytesIO(data),
            len(data),
            content_type=content_type,
            metadata={"sha256": digest},
        )
        return StoredObject(self.bucket, key, digest, len(data), content_type)

    def get(self, bucket: str, key: str) -> bytes:
        resp = self.client.get_object(bucket, key)
        try:
            return resp.read()
        finally:
            resp.close()
            resp.release_conn()

    def presigned_get(self, bucket: str, key: str) -> str:
        return self.client.presigned_get_object(bucket, key, expires=self.presign_ttl)
