"""Changing a cohort's managers or instructors is in the audit trail, before and after."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cohorts.audit import audit_trail
from cohorts.models import Cohort
from tests.conftest import give_role, make_user, program

pytestmark = pytest.mark.django_db


def _people_change(user, cohort, field):
    lines = [
        line
        for line in audit_trail(user=user, kind="cohorts.cohort")
        if line.object_id == cohort.pk and line.kind == "changed"
    ]
    return [
        (change.before, change.after, line.who)
        for line in lines
        for change in line.changes
        if change.field == field
    ]


def _ids(value):
    """The people of a historical m2m value (rows of the through table), as user ids."""
    return sorted(row["user"] for row in (value or []))


def test_changing_a_cohorts_instructors_is_audited_with_before_and_after(
    instructor, reviewer, manager
):
    cohort = Cohort.objects.create(name="Spring", program=program("a"))
    cohort._history_user = manager
    cohort.instructors.add(instructor)
    cohort = Cohort.objects.get(pk=cohort.pk)
    cohort._history_user = manager
    cohort.instructors.set([reviewer])

    changes = _people_change(manager, cohort, "instructors")
    assert changes, "no audit record of the instructors' change"
    befores_afters = [(_ids(b), _ids(a), who) for b, a, who in changes]
    # set() removes, then adds: one record each, every one with its before and after.
    assert befores_afters[:2] == [
        ([], [reviewer.pk], manager.get_full_name()),
        ([instructor.pk], [], manager.get_full_name()),
    ]


def test_changing_a_cohorts_managers_in_the_admin_is_audited(client, manager, django_user_model):
    a = program("a")
    second = make_user(django_user_model, "mgr2", "Program manager")
    give_role(second, "a", "manager")
    cohort = Cohort.objects.create(name="Autumn", program=a)
    cohort.managers.add(manager)
    manager.is_staff = True
    manager.save()
    client.force_login(manager)
    url = reverse("admin:cohorts_cohort_change", args=[cohort.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        name: form.initial.get(name) or ""
        for name in form.fields
        if name not in ("managers", "instructors")
    }
    data["program"] = a.pk
    data["managers"] = [manager.pk, second.pk]
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{inline.formset.prefix}-{name}"] = management.initial.get(name, 0)
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert set(cohort.managers.values_list("pk", flat=True)) == {manager.pk, second.pk}

    changes = [
        (_ids(b), _ids(a_), who) for b, a_, who in _people_change(manager, cohort, "managers")
    ]
    assert changes[0] == ([manager.pk], sorted([manager.pk, second.pk]), manager.get_full_name())
