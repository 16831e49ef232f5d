"""A real S3-compatible object store (MinIO, built from the Go module proxy by scripts/build-minio.sh) for the
archive's S3 store: on loopback, with its own root credentials, holding one bucket for the tests. Its data is
kept across restarts for the development profiles only."""
from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from pathlib import Path

from pyarrow import fs

from .base import PROJECT_ROOT, Service, free_port, generate_password, run_build_script

BUILD_SCRIPT = PROJECT_ROOT / "scripts" / "build-minio.sh"
BUCKET = "logwarden-archive"
LOCKED_BUCKET = "logwarden-checkpoints"  # made with object lock: the audit trail's checkpoints
ROOT_USER = "logwarden"


class MinioService(Service):
    name = "minio"
    ready_timeout = 60.0

    def __init__(self, state_root: Path, *, persistent: bool = False):
        super().__init__(state_root, persistent=persistent)
        self.binary = ""

    def install(self) -> None:
        self.binary = run_build_script(self.name, BUILD_SCRIPT)

    def launch(self) -> dict[str, str]:
        port, console_port = free_port(), free_port()
        password = generate_password()
        self.spawn("minio", [self.binary, "server", str(self.data_dir("minio")), "--quiet",
                             "--address", f"127.0.0.1:{port}", "--console-address", f"127.0.0.1:{console_port}"],
                   env={"MINIO_ROOT_USER": ROOT_USER, "MINIO_ROOT_PASSWORD": password,
                        "MINIO_BROWSER": "off", "MINIO_UPDATE": "off"})
        return {"MINIO_ENDPOINT": f"http://127.0.0.1:{port}", "MINIO_ACCESS_KEY": ROOT_USER,
                "MINIO_SECRET_KEY": password, "MINIO_BUCKET": BUCKET, "MINIO_LOCKED_BUCKET": LOCKED_BUCKET}

    def is_ready(self, env: Mapping[str, str]) -> bool:
        with urllib.request.urlopen(f"{env['MINIO_ENDPOINT']}/minio/health/ready", timeout=2) as answer:
            return answer.status == 200

    def after_ready(self, env: Mapping[str, str]) -> None:
        s3 = fs.S3FileSystem(endpoint_override=env["MINIO_ENDPOINT"], access_key=env["MINIO_ACCESS_KEY"],
                             secret_key=env["MINIO_SECRET_KEY"], region="us-east-1", allow_bucket_creation=True)
        s3.create_dir(env["MINIO_BUCKET"])
        import boto3

        boto3.client("s3", endpoint_url=env["MINIO_ENDPOINT"], aws_access_key_id=env["MINIO_ACCESS_KEY"],
                     aws_secret_access_key=env["MINIO_SECRET_KEY"], region_name="us-east-1").create_bucket(
            Bucket=env["MINIO_LOCKED_BUCKET"], ObjectLockEnabledForBucket=True)
