from pathlib import Path

from django.core.management.base import BaseCommand

from questionbank.qti import qti_export


class Command(BaseCommand):
    help = (
        "Export the bank (each item's latest version and the cases they use) as an IMS QTI 3.0 "
        "content package (a .zip)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="the .zip to write")
        parser.add_argument("--include-retired", action="store_true")
        parser.add_argument(
            "--item", action="append", dest="items", metavar="KEY", help="only this item (repeat)"
        )

    def handle(self, *args, file: Path, include_retired=False, items=None, **options):
        content = qti_export(item_keys=items, include_retired=include_retired)
        file.write_bytes(content)
        self.stdout.write(self.style.SUCCESS(f"{file}: {len(content)} bytes"))
