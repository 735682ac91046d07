from django.core.management.base import BaseCommand

from lti.keys import key_rotate
from lti.models import RETIRED_KEY_KEPT


class Command(BaseCommand):
    help = "Rotate the tool's signing key; the old public key stays in the JWKS for a while."

    def handle(self, *args, **options):
        new, old = key_rotate()
        self.stdout.write(f"New signing key {new.kid}.")
        if old is not None:
            self.stdout.write(
                f"Retired {old.kid}; it stays in /lti/jwks/ for {RETIRED_KEY_KEPT.days} days."
            )
