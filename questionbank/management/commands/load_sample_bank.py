import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from questionbank.exchange import FORMAT, FORMAT_VERSION, BankImportError, bank_restore

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_bank"


class Command(BaseCommand):
    help = (
        "Load the original sample item bank shipped in questionbank/sample_bank (idempotent): "
        "the operator's restore path, so it arrives operational with its panel's ratings, as "
        "shared content, recorded as a restore."
    )

    def handle(self, *args, **options):
        files = sorted(SAMPLE_DIR.glob("*.json"))
        if not files:
            self.stdout.write("No sample bank files found; nothing to load.")
            return
        # One import (one transaction) for all files: items in one file may use cases from
        # another.
        # Enemies may be declared in a file of their own (enemies.json), naming items of the
        # other files.
        merged = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "cases": [],
            "items": [],
            "enemies": [],
        }
        for file in files:
            data = json.loads(file.read_text(encoding="utf-8"))
            for part in ("cases", "items", "enemies"):
                merged[part] += data.get(part, [])
        try:
            result = bank_restore(merged, source="sample bank")
        except BankImportError as exc:
            raise CommandError(f"sample bank: nothing was loaded. {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"sample bank ({len(files)} files): {result.summary()}")
        )
