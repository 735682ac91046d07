from django.core.management.base import BaseCommand, CommandError

from codebook.validation import SYSTEM_LABELS
from questionbank.code_check import bank_check


class Command(BaseCommand):
    help = (
        "Check that every ICD-10-CM and ICD-10-PCS code in the bank (keys, options, stems, "
        "rationales, cases) exists in its item's code-set year, and that keys and case coding "
        "hold complete codes. Exits non-zero on any problem."
    )

    def handle(self, *args, **options):
        report = bank_check()
        for problem in report.problems:
            self.stdout.write(f"PROBLEM {problem}")
        if report.unchecked:
            self.stdout.write("Not checkable (no code set loaded for them):")
            for finding in report.unchecked:
                self.stdout.write(
                    f"  {finding.where} [{finding.field}] {SYSTEM_LABELS[finding.system]} "
                    f"{finding.code} (FY{finding.year})"
                )
        self.stdout.write(
            f"{report.versions} item versions and {report.cases} cases read; "
            f"{report.codes_checked} codes checked; {len(report.unchecked)} not checkable; "
            f"{len(report.problems)} problems"
        )
        if report.problems:
            raise CommandError(f"validate_bank found {len(report.problems)} problems")
        self.stdout.write(self.style.SUCCESS("The bank's codes are valid."))
