"""factory_boy factories and builders for exams (used by tests of every app)."""

from __future__ import annotations

import factory

from exams import services
from exams.models import Blueprint, BlueprintDomain, ExamForm
from questionbank.factories import CaseFactory, ItemVersionFactory
from questionbank.models import Domain, ItemStatus


class BlueprintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Blueprint

    name = factory.Sequence(lambda n: f"BP-{n}")
    total_items = 4
    pretest_count = 1
    time_limit_minutes = 60
    warning_minutes = factory.LazyFunction(lambda: [30, 5])
    shuffle_items = False
    shuffle_options = False


def blueprint_with(
    counts: dict[int, int], *, pretest: int = 0, minutes: int = 60, **fields
) -> Blueprint:
    """A blueprint asking for `counts` scored items per domain number."""
    blueprint = BlueprintFactory(
        total_items=sum(counts.values()) + pretest,
        pretest_count=pretest,
        time_limit_minutes=minutes,
        **fields,
    )
    for number, count in counts.items():
        BlueprintDomain.objects.create(
            blueprint=blueprint, domain=Domain.objects.get(number=number), scored_items=count
        )
    return blueprint


def bank_items(domain: int, count: int, *, status=ItemStatus.OPERATIONAL, case=None, **fields):
    return [
        ItemVersionFactory(
            domain=Domain.objects.get(number=domain), status=status, case=case, **fields
        )
        for _ in range(count)
    ]


def stock_bank(counts: dict[int, int], pretest: int = 0) -> None:
    """Operational bank items, `counts` per domain number, and `pretest` pretest items."""
    for number, count in counts.items():
        bank_items(number, count)
    if pretest:
        bank_items(1, pretest, status=ItemStatus.PRETEST)


def bank_case(domains: list[int], *, status=ItemStatus.OPERATIONAL):
    """A scenario case with one item per entry of `domains`."""
    case = CaseFactory()
    versions = []
    for number in domains:
        versions += bank_items(number, 1, status=status, case=case)
    return case, versions


def published_form(
    counts: dict[int, int],
    *,
    pretest: int = 0,
    minutes: int = 60,
    seed: int = 1,
    name: str | None = None,
    available_to_all: bool = True,
    stock: bool = True,
    **blueprint_fields,
) -> ExamForm:
    """Bank items (when `stock`), a blueprint and a published form that uses them."""
    if stock:
        stock_bank(counts, pretest)
    blueprint = blueprint_with(counts, pretest=pretest, minutes=minutes, **blueprint_fields)
    form = services.form_assemble(
        blueprint=blueprint, seed=seed, name=name or f"Form {blueprint.name}", by=None
    )
    # Publishing builds the conversion table, which needs a cut: one judge's ratings.
    from scoring.factories import judges, operational_versions, rate

    rate(operational_versions(form), rating=0.6, judges_=judges(1, prefix="factory-judge"))
    form = services.form_publish(form=form, by=None)
    if available_to_all:
        form = services.form_set_availability(form=form, available_to_all=True)
    return form
