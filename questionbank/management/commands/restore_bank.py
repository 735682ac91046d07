import json
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from questionbank.exchange import BankImportError, bank_restore, parse_csv


class Command(BaseCommand):
    help = (
        "The platform operator's restore of a bank file (docs/bank-format.md): statuses and "
        "every judge's Angoff ratings as the file says, shared content, recorded in the audit "
        "trail as a restore. All or nothing. Program staff use the admin's import instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--as-user", help="the operator (a superuser) recorded as restoring")

    def handle(self, *args, file: Path, as_user=None, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        by = None
        if as_user:
            by = get_user_model().objects.filter(username=as_user, is_superuser=True).first()
            if by is None:
                raise CommandError(f"--as-user: {as_user!r} is not a superuser")
        try:
            text = file.read_text(encoding="utf-8-sig")
            data = parse_csv(text) if file.suffix.lower() == ".csv" else json.loads(text)
            result = bank_restore(data, by=by, source=file.name)
        except (BankImportError, ValueError) as exc:
            raise CommandError(f"{file}: nothing was restored. {exc}") from exc
        self.stdout.write(self.style.SUCCESS(f"{file} restored: {result.summary()}"))
