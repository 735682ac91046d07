"""factory_boy factories for the question bank (used by tests of every app)."""

import factory

from questionbank.models import Case, Domain, Item, ItemStatus, ItemVersion, Option


class CaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Case

    key = factory.Sequence(lambda n: f"CASE-{n:03d}")
    title = factory.Sequence(lambda n: f"Case {n}")
    setting = "inpatient"
    code_set_year = 2026
    sections = factory.LazyFunction(
        lambda: [
            {"heading": "History and physical", "body": "A 70-year-old woman with dyspnea."},
            {"heading": "Discharge summary", "body": "Acute on chronic diastolic heart failure."},
        ]
    )


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item

    key = factory.Sequence(lambda n: f"T-{n:05d}")


class ItemVersionFactory(factory.django.DjangoModelFactory):
    """A valid multiple-choice version with four options, option B keyed."""

    class Meta:
        model = ItemVersion
        skip_postgeneration_save = True

    item = factory.SubFactory(ItemFactory)
    number = 1
    domain = factory.LazyFunction(lambda: Domain.objects.get(number=1))
    kind = "single"
    choose = 1
    stem = factory.Sequence(lambda n: f"Question {n}: which code is assigned?")
    rationale = "Because the guideline says so (Section I.A)."
    references = "ICD-10-CM Official Guidelines FY2026"
    code_set_year = 2026
    status = ItemStatus.OPERATIONAL

    @factory.post_generation
    def options(self, create, extracted, **kwargs):
        if not create:
            return
        specs = extracted or [
            ("Option A", False),
            ("Option B", True),
            ("Option C", False),
            ("Option D", False),
        ]
        Option.objects.bulk_create(
            Option(version=self, position=i, text=text, is_key=key)
            for i, (text, key) in enumerate(specs)
        )
