"""Instructors' admin: blueprints, assembling, previewing and publishing forms."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from exams import services
from exams.models import Blueprint, ExamForm
from questionbank.models import Domain
from scoring import services as scoring_services
from tests.conftest import program
from tests.factories import (
    bank_items,
    blueprint_with,
    judges,
    operational_versions,
    published_form,
    rate,
    stock_bank,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, instructor):
    client.force_login(instructor)
    return client


def blueprint_post(blueprint: Blueprint, counts: dict[int, int], **fields) -> dict:
    rows = list(blueprint.domains.order_by("domain__number"))
    data = {
        "name": blueprint.name,
        "description": "",
        "total_items": blueprint.total_items,
        "pretest_count": blueprint.pretest_count,
        "time_limit_minutes": blueprint.time_limit_minutes,
        "warning_minutes": "[30, 5]",
        "shuffle_items": "on",
        "domains-TOTAL_FORMS": len(rows),
        "domains-INITIAL_FORMS": len(rows),
        "domains-MIN_NUM_FORMS": 1,
        "domains-MAX_NUM_FORMS": 1000,
        **fields,
    }
    for i, row in enumerate(rows):
        data[f"domains-{i}-id"] = row.pk
        data[f"domains-{i}-blueprint"] = blueprint.pk
        data[f"domains-{i}-domain"] = row.domain_id
        data[f"domains-{i}-scored_items"] = counts[Domain.objects.get(pk=row.domain_id).number]
    return data


def test_blueprint_totals_are_validated_in_the_admin(client, admin_user):
    # Blueprints are shared content: the platform operator edits them (instructors read
    # them; tests/tenancy/test_shared_content.py).
    admin_client = client
    admin_client.force_login(admin_user)
    ccs = Blueprint.objects.get(name="CCS")
    url = reverse("admin:exams_blueprint_change", args=[ccs.pk])
    assert admin_client.get(url).status_code == 200
    bad = blueprint_post(ccs, {1: 50, 2: 14, 3: 10, 4: 10, 5: 8})
    response = admin_client.post(url, bad)
    assert response.status_code == 200
    assert "but the domains ask for 92 scored items" in response.content.decode()
    good = blueprint_post(ccs, {1: 50, 2: 14, 3: 10, 4: 10, 5: 8}, total_items=102)
    response = admin_client.post(url, good)
    assert response.status_code == 302
    ccs.refresh_from_db()
    assert ccs.total_items == 102 and ccs.domain_counts()[1] == 50


def test_assemble_preview_and_publish_from_the_admin(admin_client):
    bank_items(1, 4)
    blueprint = blueprint_with({1: 3}, name="Small")
    url = reverse("admin:exams_examform_assemble")
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(
        url,
        {"blueprint": blueprint.pk, "name": "Admin form", "seed": 9, "program": program("a").pk},
    )
    form = ExamForm.objects.get(name="Admin form")
    assert response["Location"] == reverse("admin:exams_examform_preview", args=[form.pk])
    preview = admin_client.get(response["Location"]).content.decode()
    assert "Option B" in preview and "Publish this form" in preview  # keys visible here
    # Without a cut score the form cannot be published, and the admin says what is missing.
    refused = admin_client.post(
        reverse("admin:exams_examform_publish", args=[form.pk]), follow=True
    )
    assert "have no Angoff rating" in refused.content.decode()
    form.refresh_from_db()
    assert not form.is_published
    from tests.factories import judges, operational_versions, rate

    rate(operational_versions(form), rating=0.6, judges_=judges(1, prefix="admin-judge"))
    admin_client.post(reverse("admin:exams_examform_publish", args=[form.pk]))
    form.refresh_from_db()
    assert form.is_published
    assert form.conversion.method == "angoff"
    change = admin_client.get(reverse("admin:exams_examform_change", args=[form.pk]))
    assert change.status_code == 200
    assert 'name="name"' not in change.content.decode()  # read-only once published


def test_assemble_shortfall_is_shown_in_the_admin(admin_client):
    blueprint = blueprint_with({2: 3}, name="Empty")
    response = admin_client.post(
        reverse("admin:exams_examform_assemble"),
        {"blueprint": blueprint.pk, "name": "Nope", "seed": 1, "program": program("a").pk},
    )
    assert "domain 2: needed 3, available 0" in response.content.decode()


def test_candidates_cannot_use_the_exam_admin(client, candidate):
    form = published_form({1: 1})
    client.force_login(candidate)
    response = client.get(reverse("admin:exams_examform_preview", args=[form.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_accommodations_are_set_per_program_for_its_members_only(
    admin_client, candidate, instructor
):
    from cohorts.models import Accommodation, Cohort, Membership
    from tests.conftest import program

    add = reverse("admin:cohorts_accommodation_add")
    page = admin_client.get(add).content.decode()
    # No picker that would call the user admin's autocomplete (403 for instructors).
    assert "/admin/autocomplete/" not in page and 'name="user"' in page
    prog = program("a")
    refused = admin_client.post(
        add, {"program": prog.pk, "user": "nobody", "time_multiplier": "1.50"}
    )
    assert refused.status_code == 200
    # The same words for an unknown address as for someone outside the program's cohorts.
    assert "No single member of your programs" in refused.content.decode()
    not_a_member = admin_client.post(
        add, {"program": prog.pk, "user": candidate.username, "time_multiplier": "1.50"}
    )
    # An existing account outside the program's cohorts reads exactly like no account.
    assert "No single member of your programs" in not_a_member.content.decode()
    assert not Accommodation.objects.exists()

    cohort = Cohort.objects.create(name="Evening", program=prog)
    Membership.objects.create(cohort=cohort, user=candidate)
    candidate.email = "cand@example.org"
    candidate.save()
    response = admin_client.post(
        add,
        {
            "program": prog.pk,
            "user": candidate.email.upper(),
            "time_multiplier": "1.50",
            "note": "letter 2026-01",
        },
    )
    assert response.status_code == 302
    accommodation = Accommodation.objects.get(user=candidate)
    assert accommodation.time_multiplier == 1.5 and accommodation.program == prog
    change = admin_client.get(
        reverse("admin:cohorts_accommodation_change", args=[accommodation.pk])
    )
    assert f'value="{candidate.username}"' in change.content.decode()


def test_attempt_and_form_pages_name_people_without_linking_to_the_user_admin(
    admin_client, instructor, candidate
):
    # Instructors hold no auth.User permission: a link to the user admin would answer 403.
    stock_bank({1: 1})
    form = services.form_assemble(
        blueprint=blueprint_with({1: 1}), seed=1, name="Signed form", by=instructor
    )
    rate(operational_versions(form), rating=0.6, judges_=judges(1))
    form = services.form_publish(form=form, by=instructor)
    form = services.form_set_availability(form=form, available_to_all=True)
    # Sat under program A's assignment: the attempt is program A's to read.
    from cohorts.models import Assignment, Cohort, Membership

    cohort = Cohort.objects.create(name="A cohort", program=program("a"))
    Membership.objects.create(cohort=cohort, user=candidate)
    Assignment.objects.create(cohort=cohort, form=form)
    attempt = services.attempt_start(form=form, candidate=candidate)
    conversion = scoring_services.form_cut_override(
        form=form, cut=0.5, reason="panel too strict", by=instructor
    )
    from cohorts.models import Accommodation

    profile = Accommodation.objects.create(
        program=program("a"), user=candidate, time_multiplier="1.50"
    )
    assert admin_client.get(f"/admin/auth/user/{candidate.pk}/change/").status_code == 403
    pages = {
        "attempt": reverse("admin:exams_attempt_change", args=[attempt.pk]),
        "form": reverse("admin:exams_examform_change", args=[form.pk]),
        "conversion": reverse("admin:scoring_scaleconversion_change", args=[conversion.pk]),
        "profile": reverse("admin:cohorts_accommodation_change", args=[profile.pk]),
    }
    html = {}
    for name, url in pages.items():
        response = admin_client.get(url)
        assert response.status_code == 200, name
        html[name] = response.content.decode()
        assert "/admin/auth/user/" not in html[name], name
    assert "Cand (cand)" in html["attempt"]
    assert "Instr (instr)" in html["form"] and "Instr (instr)" in html["conversion"]


def test_form_settings_refuse_warning_times_that_are_not_a_list_of_minutes(
    admin_client, instructor
):
    stock_bank({1: 2})
    form = services.form_assemble(
        blueprint=blueprint_with({1: 2}), seed=1, name="Draft", by=instructor
    )
    url = reverse("admin:exams_examform_change", args=[form.pk])
    fields = dict(admin_client.get(url).context["adminform"].form.initial)
    data = {
        key: value
        for key, value in fields.items()
        if key in {"name", "time_limit_minutes", "shuffle_items", "shuffle_options"}
        and value not in (False, None)
    } | {"items-TOTAL_FORMS": 0, "items-INITIAL_FORMS": 0}  # its items inline is read-only
    for bad in ("5", "[90]", "[true]", '"soon"'):
        response = admin_client.post(url, {**data, "warning_minutes": bad})
        assert response.status_code == 200, bad
        assert "List the whole minutes left" in response.content.decode(), bad
        assert ExamForm.objects.get(pk=form.pk).warning_minutes == [30, 5]
    response = admin_client.post(url, {**data, "warning_minutes": "[10, 2]"})
    assert response.status_code == 302
    assert ExamForm.objects.get(pk=form.pk).warning_minutes == [10, 2]


def test_a_bad_warning_setting_stored_anyway_never_stops_an_exam(client, candidate):
    form = published_form({1: 2}, minutes=60)
    # As if set before the check existed (published forms cannot be edited any more, so
    # this goes round the model's guard).
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ExamForm._meta.db_table} SET warning_minutes = %s WHERE id = %s",
            ["5", form.pk],
        )
    client.force_login(candidate)
    attempt = services.attempt_start(form=ExamForm.objects.get(pk=form.pk), candidate=candidate)
    page = client.get(reverse("exams:item", args=[attempt.pk, 1]))
    assert page.status_code == 200
    assert 'data-warnings=""' in page.content.decode()
