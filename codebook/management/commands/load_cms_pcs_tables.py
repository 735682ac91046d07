from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from codebook.loaders import file_fingerprint
from codebook.services import codeset_load


class Command(BaseCommand):
    help = (
        "Load CMS's ICD-10-PCS tables file (icd10pcs_tables_YYYY.xml) for one fiscal year; "
        "--order adds CMS's titles from icd10pcs_order_YYYY.txt."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--year", type=int, required=True, help="fiscal year")
        parser.add_argument("--order", type=Path, help="icd10pcs_order_YYYY.txt for titles")
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, file, year, order=None, force=False, **options):
        from codebook.loaders import icd10cm, icd10pcs

        for path in (file, order):
            if path and not path.exists():
                raise CommandError(f"{path} does not exist")

        def build():
            self.stdout.write(f"Reading {file.name}")
            titles = icd10cm.parse_order_file(order) if order else None
            return icd10pcs.parse_tables(file, titles=titles, progress=self.stdout.write)

        try:
            result = codeset_load(
                system="pcs",
                year=year,
                source="CMS " + " + ".join(p.name for p in (file, order) if p),
                fingerprint=file_fingerprint(file, order),
                build=build,
                note="" if order else "Titles composed from the axis labels.",
                force=force,
                progress=self.stdout.write,
            )
        except (ValueError, KeyError) as exc:
            raise CommandError(f"{file}: not a CMS ICD-10-PCS tables file ({exc})") from exc
        self.stdout.write(self.style.SUCCESS(str(result)))
