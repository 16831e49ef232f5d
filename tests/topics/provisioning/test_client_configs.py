"""Every generated client configuration, run by a real client of its kind against the real broker with a live
grant and the password of its one display: the confluent-kafka consumer (consumer.py), kcat linked against a
current librdkafka (kcat.sh, librdkafka.properties) and Kafka's Java console consumer (java.properties). Each
file names the client versions it needs, and the clients run here are at least those."""
from __future__ import annotations

import os
import re
import selectors
import shlex
import signal
import subprocess
import sys
from types import SimpleNamespace

import confluent_kafka
import pytest

from portal.devservices.kafka import kafka_libs, kafka_version
from portal.devservices.kcat import kcat_binary
from topics.kafka.adapter import produce
from topics.provisioning import credentials

pytestmark = [pytest.mark.kafka, pytest.mark.django_db]
RECORD = b'{"log": "GET /health 200\\n", "stream": "stdout", "kubernetes": {"namespace_name": "payments"}}'
LIBRDKAFKA_MINIMUM = (2, 6, 1)  # older librdkafka fails SCRAM against Kafka 4


def version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def minimum_named(requirement: str, client: str) -> str:
    return re.search(rf"{client} >= ([0-9.]+)", requirement).group(1)


@pytest.fixture(scope="session")
def kcat() -> str:
    return str(kcat_binary())


@pytest.fixture
def reader(granted, kafka_connection, tmp_path):
    """A holder whose live grant's topic holds one log record; the files as its one display shows them, and
    as downloaded (no password), written to a folder."""
    holder, topic, credential = granted
    produce(kafka_connection, topic.name, [RECORD])
    password = credentials.show_password(holder, credential)
    shown = credentials.client_config(credential, password=password)
    downloaded = credentials.client_config(credential)
    for name, text in downloaded.items():
        (tmp_path / name).write_text(text)
    for name in ("librdkafka.properties", "java.properties"):  # these hold the password itself
        (tmp_path / name).write_text(shown[name])
    return SimpleNamespace(credential=credential, topic=topic, password=password, folder=tmp_path,
                           files=downloaded)


def usage_line(text: str, command: str) -> list[str]:
    """The command a file's heading tells its reader to run."""
    (line,) = [line for line in text.splitlines() if line.startswith(f"# {command} ")]
    return shlex.split(line.removeprefix("# "))


def test_the_python_consumer_prints_the_record_and_leaves_on_ctrl_c(reader):
    # as a user's shell runs it: no PYTHONUNBUFFERED or other settings of this test run
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    consumer = subprocess.Popen([sys.executable, "consumer.py"], cwd=reader.folder, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env={**environment, "KAFKA_PASSWORD": reader.password})
    try:
        with selectors.DefaultSelector() as selector:
            selector.register(consumer.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=60), "consumer.py printed no record within 60 s"
        assert consumer.stdout.readline() == RECORD + b"\n"
        consumer.send_signal(signal.SIGINT)
        assert consumer.wait(timeout=30) == 0, consumer.stderr.read().decode()
    finally:
        consumer.kill()
        consumer.communicate()


def test_kcat_sh_reads_from_the_earliest_record_with_a_current_librdkafka(reader, kcat):
    result = subprocess.run(["sh", "kcat.sh", "-c", "1"], cwd=reader.folder, capture_output=True, timeout=60,
                            env={**os.environ, "KAFKA_PASSWORD": reader.password,
                                 "PATH": f"{os.path.dirname(kcat)}:{os.environ['PATH']}"})
    assert (result.returncode, result.stdout) == (0, RECORD + b"\n"), result.stderr.decode()


def test_kcat_sh_without_the_password_says_what_is_missing(creds, tmp_path, kcat):
    script = tmp_path / "kcat.sh"
    script.write_text(credentials.client_config(creds.etl)["kcat.sh"])
    environment = {k: v for k, v in os.environ.items() if k != "KAFKA_PASSWORD"}
    result = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=30,
                            env={**environment, "PATH": f"{os.path.dirname(kcat)}:{environment['PATH']}"})
    assert result.returncode != 0 and "KAFKA_PASSWORD" in result.stderr and "password shown once" in result.stderr


def test_librdkafka_properties_serve_kcat_as_their_heading_says(reader, kcat):
    command = usage_line(reader.files["librdkafka.properties"], "kcat")
    result = subprocess.run([kcat, *command[1:], "-c", "1"], cwd=reader.folder, capture_output=True, timeout=60)
    assert (result.returncode, result.stdout) == (0, RECORD + b"\n"), result.stderr.decode()


def test_java_properties_serve_the_java_console_consumer_as_their_heading_says(reader):
    command = usage_line(reader.files["java.properties"], "kafka-console-consumer")
    result = subprocess.run(
        ["java", "-Xmx256m", "-cp", f"{kafka_libs()}/*", "org.apache.kafka.tools.consumer.ConsoleConsumer",
         *command[1:], "--max-messages", "1", "--timeout-ms", "60000"],
        cwd=reader.folder, capture_output=True, timeout=100)
    assert result.returncode == 0 and result.stdout.splitlines() == [RECORD], result.stderr.decode()[-3000:]


def test_every_file_names_the_client_it_needs(creds):
    for name, text in credentials.client_config(creds.etl).items():
        assert f"# Needs {credentials.CLIENT_REQUIREMENTS[name]}." in text.splitlines()[:4], name


def test_the_clients_run_here_are_the_oldest_the_files_name_or_newer(kcat):
    requirements = credentials.CLIENT_REQUIREMENTS
    named = {minimum_named(requirements[name], "librdkafka") for name in ("librdkafka.properties", "kcat.sh")}
    assert {version(v) for v in named} == {LIBRDKAFKA_MINIMUM}
    kcat_librdkafka = re.search(r"librdkafka ([0-9.]+)", subprocess.run(
        [kcat, "-V"], capture_output=True, text=True, check=True).stdout).group(1)
    assert version(kcat_librdkafka) >= LIBRDKAFKA_MINIMUM
    confluent_minimum = minimum_named(requirements["consumer.py"], "confluent-kafka")
    assert version(confluent_kafka.__version__) >= version(confluent_minimum)
    assert version(confluent_kafka.libversion()[0]) >= LIBRDKAFKA_MINIMUM
    # the Java clients named are those of the broker the console consumer above comes with
    assert minimum_named(requirements["java.properties"], "Kafka Java clients") == kafka_version()
