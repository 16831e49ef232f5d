"""`manage.py audit verify|checkpoint|verify-export|public-key`: the audit trail's verification by hand."""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from topics.audit import checkpoints, evidence
from topics.audit import services as audit_services


class Command(BaseCommand):
    help = ("The audit trail: `verify` lists every broken link of the chain and every checkpoint the trail "
            "disagrees with (exit status 1 on any), `checkpoint` signs and stores the head now, `public-key` prints "
            "the checkpoint key's public half (PEM), `verify-export FILE --public-key PEM` checks a sealed export "
            "offline, without the database (exit status 1 when it does not verify).")
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "checkpoint", "verify-export", "public-key"])
        parser.add_argument("file", nargs="?", help="verify-export: the exported file")
        parser.add_argument("--public-key", action="append", default=[],
                            help="verify-export: a PEM public key file (repeat for retired keys)")

    def handle(self, *args, action, file=None, public_key=(), **options):
        if action == "public-key":
            self.stdout.write(checkpoints.public_pem(checkpoints.signing_key().public_key()), ending="")
            return
        if action == "checkpoint":
            checkpoint = audit_services.write_checkpoint()
            self.stdout.write(f"checkpoint {checkpoint.store_key}: sequence {checkpoint.sequence}, "
                              f"{checkpoint.count} events, key {checkpoint.key}")
            return
        if action == "verify-export":
            self._verify_export(file, public_key)
            return
        verification = audit_services.verify_trail(trigger="command")
        for broken in verification.broken_links:
            self.stdout.write(f"broken link: event {broken['sequence']} ({broken['kind']})")
        for problem in verification.checkpoint_problems:
            self.stdout.write(f"checkpoint {problem['key']}: {problem['problem']}"
                              + (f" (sequence {problem['sequence']})" if problem["sequence"] is not None else ""))
        summary = (f"{verification.events_checked} events up to sequence {verification.head_sequence}, "
                   f"{verification.checkpoints_checked} checkpoints: {len(verification.broken_links)} broken "
                   f"link(s), {len(verification.checkpoint_problems)} checkpoint mismatch(es)")
        if not verification.intact:
            raise CommandError(f"audit trail verification FAILED: {summary}", returncode=1)
        self.stdout.write(f"audit trail intact: {summary}")

    def _verify_export(self, file, public_key_files):
        if not file:
            raise CommandError("verify-export: name the exported file")
        if not public_key_files:
            raise CommandError("verify-export: give --public-key PEM (the checkpoint key's public half)")
        try:
            keys = [checkpoints.load_public_key(path) for path in public_key_files]
            data = Path(file).read_bytes()
        except (OSError, ValueError) as exc:
            raise CommandError(f"verify-export: {exc}") from None
        try:
            verified = evidence.verify(data, keys)
        except evidence.SealError as exc:
            raise CommandError(f"{file}: does NOT verify: {exc}", returncode=1) from None
        checkpoint = verified.checkpoint
        self.stdout.write(f"{file}: verifies ({verified.fmt}), sealed by key {verified.key} with checkpoint of "
                          f"sequence {checkpoint.sequence} ({checkpoint.count} events, hash {checkpoint.hash}) "
                          f"signed at {checkpoint.signed_at}")
