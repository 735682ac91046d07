from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from questionbank.exchange import BankImportError
from questionbank.qti import qti_import


class Command(BaseCommand):
    help = (
        "Import cases and items from an IMS QTI 3.0 content package (.zip) through the bank's "
        "own import (same rules). All or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--as-user", help="username recorded as the author of new items")
        parser.add_argument(
            "--create-missing-judges",
            action="store_true",
            help="create sign-in-less accounts for Angoff judges named in the package",
        )

    def handle(self, *args, file: Path, as_user=None, create_missing_judges=False, **options):
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        by = None
        if as_user:
            by = get_user_model().objects.filter(username=as_user).first()
            if by is None:
                raise CommandError(f"--as-user: no user named {as_user!r}")
        try:
            result = qti_import(
                content=file.read_bytes(), by=by, create_missing_judges=create_missing_judges
            )
        except BankImportError as exc:
            raise CommandError(f"{file}: nothing was imported. {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"{file}: {result.summary()}"))
