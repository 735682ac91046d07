from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from questionbank.exchange import BankImportError, bank_import_file
from tenancy.models import Program


class Command(BaseCommand):
    help = "Import cases and items from a JSON or CSV file (docs/bank-format.md). All or nothing."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--as-user",
            help="the importer: author of new items, and the one judge whose Angoff ratings "
            "are kept",
        )
        parser.add_argument(
            "--program", help="slug of the program the items belong to (default: shared)"
        )

    def handle(self, *args, file: Path, as_user=None, program=None, **options):
        if not file.exists():
            raise CommandError(f"{file}: no such file")
        by = None
        if as_user:
            by = get_user_model().objects.filter(username=as_user).first()
            if by is None:
                raise CommandError(f"--as-user: no user named {as_user!r}")
        owner = None
        if program:
            owner = Program.objects.filter(slug=program).first()
            if owner is None:
                raise CommandError(f"--program: no program with the slug {program!r}")
        try:
            result = bank_import_file(
                name=file.name, content=file.read_bytes(), by=by, program=owner
            )
        except BankImportError as exc:
            raise CommandError(f"{file}: nothing was imported. {exc}") from exc
        except PermissionDenied as exc:
            raise CommandError(f"{file}: nothing was imported. {exc}") from exc
        for message in result.messages:
            self.stdout.write(message)
        self.stdout.write(self.style.SUCCESS(f"{file}: {result.summary()}"))
