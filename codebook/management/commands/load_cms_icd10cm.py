from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from codebook.loaders import file_fingerprint
from codebook.services import codeset_load


def _is_xml(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(200).lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<")


class Command(BaseCommand):
    help = (
        "Load CMS's ICD-10-CM files of one fiscal year: the tabular XML "
        "(icd10cm_tabular_YYYY.xml), the order file (icd10cm_order_YYYY.txt), or both "
        "(best: the order file confirms the 7th-character codes and billable flags)."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", type=Path, help="tabular XML and/or order file")
        parser.add_argument("--year", type=int, help="fiscal year (default: the XML's version)")
        parser.add_argument("--force", action="store_true")

    def handle(self, *args, files, year=None, force=False, **options):
        from codebook.loaders import icd10cm

        tabular = order = None
        for path in files:
            if not path.exists():
                raise CommandError(f"{path} does not exist")
            if _is_xml(path):
                tabular = path
            else:
                order = path
        if tabular:
            file_year = icd10cm.tabular_year(tabular)
            if year and file_year and file_year != year:
                self.stderr.write(
                    f"note: {tabular.name} says version {file_year}; loading as {year}"
                )
            year = year or file_year
        if not year:
            raise CommandError("give --year (the order file does not say its year)")

        def build():
            self.stdout.write(f"Reading {', '.join(p.name for p in files)}")
            order_codes = icd10cm.parse_order_file(order) if order else None
            if tabular:
                return icd10cm.parse_tabular(tabular, order=order_codes, progress=self.stdout.write)
            return icd10cm.records_from_order(order_codes)

        try:
            result = codeset_load(
                system="cm",
                year=year,
                source="CMS " + " + ".join(p.name for p in files),
                fingerprint=file_fingerprint(tabular, order),
                build=build,
                note="" if tabular else "From the order file: no chapters, blocks or notes.",
                force=force,
                progress=self.stdout.write,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(str(result)))
