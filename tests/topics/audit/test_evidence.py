"""Sealed exports: each format carries the latest checkpoint and a signature over its content, verified offline
(`manage.py audit verify-export` in a process without a database) and refused after one byte is changed."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import override_settings

from portal.core import audit, exports
from tests.helpers import run_manage
from topics.audit import checkpoints, evidence

TABLE = exports.Table(title="Who could read payments", columns=("principal", "since"),
                      rows=[("u.alice", datetime(2026, 1, 2, tzinfo=timezone.utc)), ("sa.batch", None)],
                      parameters={"namespace": "payments"}, generated_at=datetime(2026, 2, 1, tzinfo=timezone.utc))
CHECKPOINT = checkpoints.sign(audit.Head(41, "cd" * 32, 40), datetime(2026, 2, 1, tzinfo=timezone.utc))


def _public_key_file(tmp_path, key=None):
    path = tmp_path / "checkpoint-public.pem"
    path.write_text(checkpoints.public_pem((key or checkpoints.signing_key()).public_key()))
    return path


@pytest.mark.parametrize("fmt", ["csv", "json", "pdf"])
def test_a_sealed_export_verifies_and_names_its_checkpoint(fmt):
    sealed = evidence.seal(exports.render(TABLE, fmt, allowed=(fmt,)), fmt, CHECKPOINT)
    verified = evidence.verify(sealed, [checkpoints.signing_key().public_key()])
    assert verified.fmt == fmt and verified.checkpoint == CHECKPOINT


def test_each_format_still_reads_as_itself():
    csv_text = evidence.seal(exports.render(TABLE, "csv"), "csv", CHECKPOINT).decode()
    lines = csv_text.splitlines()
    assert lines[0] == "principal,since" and lines[-1].startswith("#logwarden-evidence ")
    document = json.loads(evidence.seal(exports.render(TABLE, "json"), "json", CHECKPOINT))
    assert document["rows"][0]["principal"] == "u.alice" and document["evidence"]["checkpoint"]["sequence"] == 41
    pdf = evidence.seal(exports.render(TABLE, "pdf", allowed=("pdf",)), "pdf", CHECKPOINT)
    # readers look for the last %%EOF within the file's last 1024 bytes
    assert pdf.startswith(b"%PDF-") and b"%%EOF\n%logwarden-evidence " in pdf
    assert len(pdf.rsplit(b"%%EOF", 1)[1]) < 1024


@pytest.mark.parametrize("fmt", ["csv", "json", "pdf"])
def test_one_byte_changed_anywhere_is_refused(fmt):
    sealed = evidence.seal(exports.render(TABLE, fmt, allowed=(fmt,)), fmt, CHECKPOINT)
    key = checkpoints.signing_key().public_key()
    at = sealed.index(b"u.alice") if fmt != "pdf" else len(sealed) // 3
    changed = sealed[:at] + bytes([sealed[at] ^ 0x01]) + sealed[at + 1:]
    with pytest.raises(evidence.SealError):
        evidence.verify(changed, [key])
    with pytest.raises(evidence.SealError, match="unknown key"):  # another key cannot vouch for it
        evidence.verify(sealed, [Ed25519PrivateKey.generate().public_key()])


def test_a_forged_checkpoint_in_the_seal_is_refused():
    document = json.loads(evidence.seal(exports.render(TABLE, "json"), "json", CHECKPOINT))
    document["evidence"]["checkpoint"]["count"] = 4000
    with pytest.raises(evidence.SealError, match="the checkpoint: the signature does not verify"):
        evidence.verify(json.dumps(document).encode(), [checkpoints.signing_key().public_key()])


@pytest.mark.parametrize("fmt", ["csv", "pdf"])
def test_the_command_verifies_offline_and_fails_after_one_byte(tmp_path, fmt):
    """A process of its own, with no database (an in-memory SQLite never migrated) and only the public key."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    checkpoint = checkpoints.sign(audit.Head(3, "ef" * 32, 3), datetime(2026, 2, 1, tzinfo=timezone.utc), key)
    with override_settings(LOGWARDEN_CHECKPOINT_KEY=pem.decode()):
        sealed = evidence.seal(exports.render(TABLE, fmt, allowed=(fmt,)), fmt, checkpoint)
    exported = tmp_path / f"report.{fmt}"
    exported.write_bytes(sealed)
    public = _public_key_file(tmp_path, key)

    ok = run_manage("audit", "verify-export", str(exported), "--public-key", str(public))
    assert ok.returncode == 0, ok.stderr
    assert "verifies" in ok.stdout and "sequence 3" in ok.stdout

    at = sealed.index(b"sa.batch") if fmt == "csv" else len(sealed) // 2
    exported.write_bytes(sealed[:at] + bytes([sealed[at] ^ 0x20]) + sealed[at + 1:])
    bad = run_manage("audit", "verify-export", str(exported), "--public-key", str(public))
    assert bad.returncode == 1 and "does NOT verify" in bad.stderr


@pytest.mark.django_db
def test_the_audit_trail_downloads_sealed_for_auditors_only(as_role, tmp_path, settings):
    settings.LOGWARDEN_CHECKPOINT_STORE = str(tmp_path / "checkpoints")
    audit.record(audit.SYSTEM, "namespace.register", target_type="t", target_id="1", target_label="payments")
    assert as_role("engineer").get("/audit/download.csv").status_code == 403
    auditor = as_role("auditor")
    response = auditor.get("/audit/download.json?action_prefix=namespace.")
    assert response.status_code == 200 and 'filename="audit-trail.json"' in response["Content-Disposition"]
    document = json.loads(response.content)
    assert [row["action"] for row in document["rows"]] == ["namespace.register"]
    verified = evidence.verify(response.content, [checkpoints.signing_key().public_key()])
    assert verified.checkpoint.count >= 1
    csv_response = auditor.get("/audit/download.csv")
    assert evidence.verify(csv_response.content, [checkpoints.signing_key().public_key()]).fmt == "csv"
    assert auditor.get("/audit/download.pdf").status_code == 400
    page = auditor.get("/audit/verification/")
    assert page.status_code == 200 and checkpoints.fingerprint(checkpoints.signing_key().public_key()) in \
        page.content.decode()
    assert auditor.get("/audit/?action=namespace.register").status_code == 200


@pytest.mark.django_db
def test_the_api_downloads_the_filtered_trail_sealed(as_role, tmp_path, settings):
    settings.LOGWARDEN_CHECKPOINT_STORE = str(tmp_path / "checkpoints")
    audit.record(audit.SYSTEM, "grant.create", target_type="t", target_id="1")
    audit.record(audit.SYSTEM, "namespace.register", target_type="t", target_id="2")
    auditor = as_role("auditor")
    response = auditor.get("/api/audit-events/download/?file_format=csv&action=grant.create")
    assert response.status_code == 200, response.content
    verified = evidence.verify(response.content, [checkpoints.signing_key().public_key()])
    assert verified.fmt == "csv" and b"grant.create" in response.content
    assert b"namespace.register" not in response.content
    refused = auditor.get("/api/audit-events/download/?file_format=pdf")
    assert refused.status_code == 400 and "file_format" in refused.json()
    assert as_role("engineer").get("/api/audit-events/download/?file_format=csv").status_code == 403
