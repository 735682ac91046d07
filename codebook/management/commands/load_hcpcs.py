from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from codebook.loaders import file_fingerprint
from codebook.services import codeset_load


class Command(BaseCommand):
    help = (
        "Load CMS's HCPCS Level II file for one year: the fixed-width HCPC20YY_*_ANWEB.txt "
        "or a CSV with the columns HCPC, LONG DESCRIPTION, SHORT DESCRIPTION."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, file, year, force=False, **options):
        from codebook.loaders.hcpcs import parse_hcpcs

        if not file.exists():
            raise CommandError(f"{file} does not exist")
        try:
            result = codeset_load(
                system="hcpcs",
                year=year,
                source=f"CMS {file.name}",
                fingerprint=file_fingerprint(file),
                build=lambda: parse_hcpcs(file),
                force=force,
                progress=self.stdout.write,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(str(result)))
