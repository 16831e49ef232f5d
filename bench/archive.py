"""Benchmark of the archiver on the real broker: records/s archived to Parquet ÷ records/s kcat consumes from the
same topic in the same run (target ≥ 0.5), on --records brief-shaped records in one partition.

    python -m portal.devservices run postgres kafka --profile bench -- .venv/bin/python bench/archive.py

It registers one namespace (its topic is made on the broker), provisions the archiver, produces the records,
then times kcat (librdkafka ≥ 2.6.1, `portal.devservices.kcat`) reading them all as Logwarden's admin principal,
and one archive run (`topics.archive.services.archive_topic`, fsynced local files, offsets committed) reading
them as `portal.archiver`. The store is a temporary directory, removed afterwards.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--records-per-file", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command

    from portal.core.audit import SYSTEM
    from portal.devservices.kcat import kcat_binary
    from topics.archive import principal as archiver
    from topics.archive import services as archive
    from topics.archive.rotation import Limits
    from topics.archive.store import store_for
    from topics.catalogue import services as catalogue
    from topics.kafka.adapter import ArchiveConsumer, KafkaConnection, produce
    from topics.kafka.errors import KafkaAdapterError
    from topics.provisioning.reconciler import reconcile
    from topics.provisioning.topic_sync import sync_topics

    call_command("migrate", verbosity=0)
    name = f"bench-{uuid.uuid4().hex[:8]}"
    namespace = catalogue.register_namespace(SYSTEM, name=name)
    topic = namespace.topics.select_related("namespace", "cluster").get()
    sync_topics([topic.pk])
    archiver.ensure(topic.cluster)
    reconcile(topic.cluster, trigger="manual")
    topic.refresh_from_db()

    admin = KafkaConnection.from_env(os.environ)
    record = {"log": "GET /health 200\n", "stream": "stdout", "time": "2026-11-24T10:15:02.123456Z",
              "docker": {"container_id": "5f1c"},
              "kubernetes": {"namespace_name": name, "pod_name": "api-7d9f8-x2x9q", "pod_id": "0b7e",
                             "container_name": "api", "host": "node-12", "labels": {"app": "api", "tier": "backend"}}}
    produce(admin, topic.name, (json.dumps({**record, "log": f"GET /orders/{n} 200\n"}).encode()
                                for n in range(args.records)), timeout=120)

    # on a fresh broker the group coordinator (and the archiver's ACLs) come a moment later: wait, untimed
    deadline = time.monotonic() + 120
    while True:
        try:
            with ArchiveConsumer(archiver.connection(topic.cluster), topic.name,
                                 group=archiver.group_of(topic)) as consumer:
                consumer.committed(consumer.partitions())
            break
        except KafkaAdapterError:
            assert time.monotonic() < deadline, "the archiver's group coordinator within 120 s"
            time.sleep(1)

    started = time.perf_counter()
    kcat = subprocess.run([str(kcat_binary()), "-C", "-b", admin.bootstrap, "-t", topic.name, "-o", "beginning",
                           "-e", "-q", "-X", f"security.protocol={admin.security_protocol}",
                           "-X", f"sasl.mechanisms={admin.sasl_mechanism}", "-X", f"sasl.username={admin.username}",
                           "-X", f"sasl.password={admin.password}"], capture_output=True, check=True)
    kcat_seconds = time.perf_counter() - started
    kcat_records = kcat.stdout.count(b"\n")

    with tempfile.TemporaryDirectory(prefix="logwarden-bench-archive-") as directory:
        started = time.perf_counter()
        result = archive.archive_topic(topic, store=store_for(directory),
                                       limits=Limits(args.records_per_file, 1 << 40, 86_400))
        archive_seconds = time.perf_counter() - started

    kcat_rate, archive_rate = kcat_records / kcat_seconds, result["records"] / archive_seconds
    print(f"records produced: {args.records}, {args.records_per_file} per file")
    print(f"kcat: {kcat_records} records in {kcat_seconds:.2f} s = {kcat_rate:,.0f} records/s")
    print(f"archive: {result['records']} records in {result['files']} files in {archive_seconds:.2f} s = "
          f"{archive_rate:,.0f} records/s")
    print(f"archive ÷ kcat = {archive_rate / kcat_rate:.2f} (target ≥ 0.5)")


if __name__ == "__main__":
    main()
