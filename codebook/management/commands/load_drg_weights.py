from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from codebook.loaders import file_fingerprint
from codebook.services import drg_weights_load


class Command(BaseCommand):
    help = (
        "Load MS-DRG titles and relative weights from CMS's Table 5 of an IPPS final rule "
        "(tab-separated text or CSV) for one fiscal year."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--year", type=int, help="fiscal year (default: from the title)")

    def handle(self, *args, file, year=None, **options):
        from codebook.loaders import read_text
        from codebook.loaders.drg import parse_table5, table5_year

        if not file.exists():
            raise CommandError(f"{file} does not exist")
        year = year or table5_year(read_text(file))
        if not year:
            raise CommandError("give --year (the file's title does not say it)")
        try:
            rows = parse_table5(file)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        result = drg_weights_load(
            year=year,
            rows=rows,
            source=f"CMS {file.name}",
            fingerprint=file_fingerprint(file),
            progress=self.stdout.write,
        )
        self.stdout.write(self.style.SUCCESS(str(result)))
