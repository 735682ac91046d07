from django.core.management.base import BaseCommand, CommandError

from codebook.loaders import MissingPackage
from codebook.services import codesets_load_shipped


class Command(BaseCommand):
    help = (
        "Load the code sets the installed packages ship (ICD-10-CM FY2026 and FY2025, "
        "ICD-10-PCS validity FY2023-2027, MS-DRG FY2026 weights). Re-running changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--only",
            action="append",
            choices=["cm", "pcs", "drg"],
            help="Load only these (repeatable); default: all.",
        )
        parser.add_argument("--force", action="store_true", help="Reload even if unchanged.")

    def handle(self, *args, only=None, force=False, **options):
        try:
            results = codesets_load_shipped(
                only=set(only) if only else None, force=force, progress=self.stdout.write
            )
        except MissingPackage as exc:
            raise CommandError(str(exc)) from exc
        changed = [r for r in results if r.status != "unchanged"]
        summary = f"{len(results)} code sets checked, {len(changed)} loaded"
        self.stdout.write(self.style.SUCCESS(summary if changed else summary + ": all up to date"))
