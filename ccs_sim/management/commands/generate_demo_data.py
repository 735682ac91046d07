import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from ccs_sim import demo as demo_data


class Command(BaseCommand):
    help = (
        "Insert generated cohorts, candidates, exam attempts and scores in bulk (load data for "
        "the dashboards), or with --demo give demo-manager two cohorts with results."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cohorts", type=int, default=50)
        parser.add_argument("--candidates", type=int, default=20000)
        parser.add_argument("--attempts", type=int, default=100000, help="exam attempts")
        parser.add_argument("--seed", type=int, default=None, help="random seed")
        parser.add_argument(
            "--manager",
            action="append",
            default=[],
            metavar="USERNAME",
            help="existing user who manages every generated cohort (repeatable; default: a "
            "generated manager)",
        )
        parser.add_argument(
            "--demo",
            action="store_true",
            help="the small demo set: two cohorts for demo-manager, one for someone else "
            "(idempotent; run after seed_demo)",
        )

    def handle(self, *args, cohorts, candidates, attempts, seed, manager, demo, **options):
        started = time.perf_counter()
        if demo:
            try:
                demo_data.generate_demo(stdout=self.stdout)
            except LookupError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(self.style.SUCCESS("demo cohorts ready for demo-manager"))
            return
        if min(cohorts, candidates) < 1 or attempts < 0:
            raise CommandError("--cohorts and --candidates must be at least 1")
        managers = list(get_user_model().objects.filter(username__in=manager))
        missing = set(manager) - {m.username for m in managers}
        if missing:
            raise CommandError(f"no user named {', '.join(sorted(missing))}")
        out = demo_data.generate(
            cohorts=cohorts,
            candidates=candidates,
            attempts=attempts,
            managers=managers,
            seed=seed,
            stdout=self.stdout,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(out.cohorts)} cohorts, {out.users} candidates, {out.attempts} exam "
                f"attempts in {time.perf_counter() - started:.1f}s"
            )
        )
