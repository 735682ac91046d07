import json
from pathlib import Path

from django.core.management.base import BaseCommand

from questionbank.exchange import bank_export


class Command(BaseCommand):
    help = "Export the bank (cases and each item's latest version) as JSON."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="output file, or - for standard output")
        parser.add_argument("--include-retired", action="store_true")

    def handle(self, *args, file: Path, include_retired=False, **options):
        data = bank_export(include_retired=include_retired)
        text = json.dumps(data, indent=2, ensure_ascii=False)
        if str(file) == "-":
            self.stdout.write(text)
        else:
            file.write_text(text + "\n", encoding="utf-8")
            self.stderr.write(f"{file}: {len(data['cases'])} cases, {len(data['items'])} items")
