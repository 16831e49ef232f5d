"""The archive's object store: a local directory (the embedded default) or an S3-compatible bucket, chosen by
LOGWARDEN_ARCHIVE_STORE. The only module that speaks to object storage; both kinds are pyarrow filesystems, so
Parquet is written and read (pyarrow, DuckDB through Arrow) the same way on either.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.conf import settings
from pyarrow import fs


@dataclass(frozen=True)
class StoredObject:
    key: str  # relative to the store's root, '/'-separated
    size: int
    modified: datetime | None


class ArchiveStore:
    def __init__(self, filesystem: fs.FileSystem, root: str, *, on_s3: bool = False):
        self.filesystem = filesystem
        self.root = root.rstrip("/")
        self.on_s3 = on_s3
        self._s3_client = None

    @property
    def s3_client(self):
        """boto3's client, made at first use, for what pyarrow cannot ask S3 (conditional writes, object lock)."""
        if self._s3_client is None:
            self._s3_client = _s3_client()
        return self._s3_client

    def path(self, key: str) -> str:
        """The key's path in `filesystem`."""
        return f"{self.root}/{key}"

    def list(self, prefix: str = "") -> list[StoredObject]:
        """Every object under `prefix` (a key prefix ending in '/'), sorted by key; none when it does not exist."""
        base = self.path(prefix).rstrip("/")
        infos = self.filesystem.get_file_info(fs.FileSelector(base, recursive=True, allow_not_found=True))
        start = len(self.root) + 1
        return sorted((StoredObject(info.path[start:], info.size, info.mtime) for info in infos
                       if info.type == fs.FileType.File), key=lambda stored: stored.key)

    def write(self, key: str, data: bytes) -> None:
        """Stores `data` under `key`, durably, replacing what was there, before returning: on a local directory a
        temporary file is written, fsynced, renamed over the key and the directory fsynced (a crash leaves the old
        object or the new one, never half of one); on S3 the upload has completed (an object appears whole)."""
        if not isinstance(self.filesystem, fs.LocalFileSystem):
            with self.filesystem.open_output_stream(self.path(key)) as stream:
                stream.write(data)
            return
        target = self.path(key)
        directory = os.path.dirname(target)
        os.makedirs(directory, exist_ok=True)
        temporary = os.path.join(directory, f".{os.path.basename(target)}.{uuid.uuid4().hex}.tmp")
        try:
            with open(temporary, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, target)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
        _fsync_directory(directory)

    def create(self, key: str, data: bytes, *, retain_until: datetime | None = None) -> None:
        """Stores `data` under a new `key`, never replacing an object: FileExistsError when one is there. On a
        local directory the file is created exclusively (O_EXCL), read-only, written and fsynced with its directory;
        on S3 the upload is conditional (If-None-Match: *) and, with `retain_until`, carries an object lock
        retention (COMPLIANCE: nobody, the root user included, deletes or overwrites that version before then; the
        bucket must have been created with object lock)."""
        if self.on_s3:
            self._create_on_s3(key, data, retain_until)
            return
        target = self.path(key)
        directory = os.path.dirname(target)
        os.makedirs(directory, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
        try:
            os.write(descriptor, data)
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        _fsync_directory(directory)

    def _create_on_s3(self, key: str, data: bytes, retain_until: datetime | None) -> None:
        from botocore.exceptions import ClientError

        bucket, _, prefix = self.root.partition("/")
        lock = {"ObjectLockMode": "COMPLIANCE", "ObjectLockRetainUntilDate": retain_until} if retain_until else {}
        try:
            self.s3_client.put_object(Bucket=bucket, Key=f"{prefix}/{key}" if prefix else key, Body=data,
                                      IfNoneMatch="*", **lock)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise FileExistsError(key) from None
            raise OSError(f"s3://{self.root}/{key}: {exc}") from None

    def read(self, key: str) -> bytes:
        with self.filesystem.open_input_stream(self.path(key)) as stream:
            return stream.read()

    def open(self, key: str):
        """A binary stream of the object (for streaming a download); FileNotFoundError when it is gone."""
        return self.filesystem.open_input_file(self.path(key))

    def delete(self, keys: list[str]) -> None:
        """Removes the objects; those already gone are not an error (a retention pass may be repeated)."""
        for key in keys:
            try:
                self.filesystem.delete_file(self.path(key))
            except FileNotFoundError:
                pass


def _fsync_directory(directory: str) -> None:
    """Makes a file's creation or rename in `directory` durable."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@cache
def default_store() -> ArchiveStore:
    """The store LOGWARDEN_ARCHIVE_STORE names (settings validated it)."""
    return store_for(settings.LOGWARDEN_ARCHIVE_STORE)


def checkpoint_store() -> ArchiveStore:
    """Where the audit trail's signed checkpoints go (LOGWARDEN_CHECKPOINT_STORE): outside the database. Read at
    each use (a checkpoint a few minutes apart)."""
    return store_for(settings.LOGWARDEN_CHECKPOINT_STORE)


def _s3_client():
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=settings.LOGWARDEN_ARCHIVE_S3_ENDPOINT or None,
                        aws_access_key_id=settings.LOGWARDEN_ARCHIVE_S3_ACCESS_KEY or None,
                        aws_secret_access_key=settings.LOGWARDEN_ARCHIVE_S3_SECRET_KEY or None,
                        region_name=settings.LOGWARDEN_ARCHIVE_S3_REGION,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}))


def store_for(location: str) -> ArchiveStore:
    """`/abs/dir` (created when missing) or `s3://bucket[/prefix]` (endpoint and keys from the
    LOGWARDEN_ARCHIVE_S3_* settings)."""
    if location.startswith("s3://"):
        bucket_and_prefix = location.removeprefix("s3://").strip("/")
        filesystem = fs.S3FileSystem(
            endpoint_override=settings.LOGWARDEN_ARCHIVE_S3_ENDPOINT or None,
            access_key=settings.LOGWARDEN_ARCHIVE_S3_ACCESS_KEY or None,
            secret_key=settings.LOGWARDEN_ARCHIVE_S3_SECRET_KEY or None,
            region=settings.LOGWARDEN_ARCHIVE_S3_REGION)
        return ArchiveStore(filesystem, bucket_and_prefix, on_s3=True)
    filesystem = fs.LocalFileSystem()
    filesystem.create_dir(location, recursive=True)
    return ArchiveStore(filesystem, location)
