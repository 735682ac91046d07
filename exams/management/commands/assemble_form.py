from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from exams import services
from exams.models import Blueprint, ExamForm, FormItem


class Command(BaseCommand):
    help = "Assemble an exam form from a blueprint (optionally publish it). For demo set-up."

    def add_arguments(self, parser):
        parser.add_argument("--blueprint", default="CCS", help="blueprint name (default CCS)")
        parser.add_argument("--name", required=True, help="name of the new form")
        parser.add_argument("--seed", type=int, required=True)
        parser.add_argument("--publish", action="store_true", help="publish the form")
        parser.add_argument(
            "--available-to-all",
            action="store_true",
            help="let every candidate sit it (implies nothing unless published)",
        )
        parser.add_argument(
            "--exclude-form",
            action="append",
            default=[],
            metavar="NAME",
            help="avoid the items of this form where the bank allows (repeatable)",
        )

    def handle(self, *args, blueprint, name, seed, publish, available_to_all, exclude_form, **_):
        try:
            bp = Blueprint.objects.get(name=blueprint)
        except Blueprint.DoesNotExist:
            raise CommandError(f"no blueprint named {blueprint!r}") from None
        missing = set(exclude_form) - set(
            ExamForm.objects.filter(name__in=exclude_form).values_list("name", flat=True)
        )
        if missing:
            raise CommandError(f"no form named {', '.join(sorted(missing))}")
        exclude = list(
            FormItem.objects.filter(form__name__in=exclude_form).values_list(
                "item_version_id", flat=True
            )
        )
        try:
            form = services.form_assemble(
                blueprint=bp, seed=seed, name=name, by=None, exclude_versions=exclude
            )
            report = form.assembly_report
            if publish:
                form = services.form_publish(form=form, by=None)
            if available_to_all:
                form = services.form_set_availability(form=form, available_to_all=True)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        pretest = form.items.filter(is_pretest=True).count()
        self.stdout.write(f"{form.name}: {report}")
        self.stdout.write(
            self.style.SUCCESS(
                f"{form.name}: {form.items.count()} items ({pretest} pretest), "
                f"{form.get_status_display().lower()}"
                + (", available to all candidates" if form.available_to_all else "")
            )
        )
