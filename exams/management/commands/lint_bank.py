from django.core.management.base import BaseCommand, CommandError

from exams.models import ExamForm
from exams.selectors import form_enemy_pairs
from questionbank.lint import Figure, bank_figures
from questionbank.models import enemy_pairs


def forms_figure() -> Figure:
    forms = list(ExamForm.objects.exams().published().order_by("name"))
    together = [
        f"{form.name}: {a} and {b}" for form in forms for a, b in form_enemy_pairs(form=form)
    ]
    return Figure(
        "enemy pairs sharing a published form",
        f"{len(together)} (of {len(enemy_pairs())} declared pairs, on {len(forms)} "
        "published forms)",
        not together,
        "none",
        together,
    )


class Command(BaseCommand):
    help = (
        "Print the bank's content figures (cues, difficulty, application, outpatient and PCS "
        "breadth, enemies on published forms, quoted CPT descriptors, pretest pool) against "
        "their thresholds (questionbank/lint.py says how each is counted). Exits non-zero "
        "when any misses its threshold."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--details", action="store_true", help="list the items behind each figure"
        )

    def handle(self, *args, details=False, **options):
        figures = bank_figures() + [forms_figure()]
        for figure in figures:
            mark = "ok  " if figure.passed else "MISS"
            self.stdout.write(f"{mark} {figure.name}: {figure.value} (rule: {figure.rule})")
            shown = figure.details if details else ([] if figure.passed else figure.details[:12])
            for line in shown:
                self.stdout.write(f"       {line}")
            if not details and not figure.passed and len(figure.details) > 12:
                self.stdout.write(f"       … and {len(figure.details) - 12} more (--details)")
        missed = [f.name for f in figures if not f.passed]
        if missed:
            raise CommandError(f"lint_bank: {len(missed)} figure(s) miss their threshold")
        self.stdout.write(self.style.SUCCESS("lint_bank: every figure meets its threshold"))
