from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from exams.models import ExamForm
from itemanalysis.simulation import responses_simulate


class Command(BaseCommand):
    help = (
        "Write N submitted exam attempts on a published form, answered by simulated candidates "
        "drawn from a Rasch model, so that item analysis can be run and looked at."
    )

    def add_arguments(self, parser):
        parser.add_argument("--form", required=True, help="the form's id or name")
        parser.add_argument("--candidates", type=int, required=True, help="how many attempts")
        parser.add_argument("--seed", type=int, required=True)
        parser.add_argument(
            "--ability-mean", type=float, default=0.0, help="mean ability in logits (default 0)"
        )

    def handle(self, *args, form, candidates, seed, ability_mean, **options):
        lookup = {"pk": int(form)} if form.isdigit() else {"name": form}
        try:
            exam_form = ExamForm.objects.get(**lookup)
        except ExamForm.DoesNotExist:
            raise CommandError(f"no form with {next(iter(lookup))} {form!r}") from None

        def progress(done: int, total: int) -> None:
            self.stdout.write(f"  {done}/{total} attempts written")

        try:
            result = responses_simulate(
                form=exam_form,
                candidates=candidates,
                seed=seed,
                ability_mean=ability_mean,
                progress=progress,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        sources = ", ".join(f"{n} from {k}" for k, n in result.difficulty_sources.items() if n)
        self.stdout.write(
            self.style.SUCCESS(
                f"{exam_form}: {result.attempts} submitted exam attempts, {result.responses} "
                f"responses ({result.candidates_created} new candidate accounts); item "
                f"difficulties {sources}; {result.mean_raw_proportion:.0%} correct overall."
            )
        )
