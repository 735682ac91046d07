"""The pages' wiring: what a manager sees and does, CSV exports, and empty states."""

import csv
import io

import pytest
from django.urls import reverse

from cohorts.models import Assignment, Cohort
from tests.conftest import program

from .conftest import make_cohort

pytestmark = pytest.mark.django_db


def rows_of(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_cohort_list_shows_the_figures(client, hand_cohort, manager):
    client.force_login(manager)
    page = client.get(reverse("cohorts:dashboard")).content.decode()
    assert "Cohort A" in page
    assert '<td class="num first-rate">33%</td>' in page
    assert '<td class="num best-rate">67%</td>' in page


def test_cohort_list_export_matches_the_page(client, hand_cohort, manager):
    client.force_login(manager)
    rows = rows_of(client.get(reverse("cohorts:dashboard_export")))
    assert rows[0][:7] == [
        "cohort",
        "program",
        "start",
        "end",
        "candidates",
        "sat_an_exam",
        "exam_attempts",
    ]
    a = rows[1]
    assert a[0] == "Cohort A" and a[4:7] == ["6", "4", "5"]
    assert float(a[7]) == pytest.approx(1 / 3, abs=1e-3) and float(a[8]) == pytest.approx(
        2 / 3, abs=1e-3
    )
    assert float(a[9]) == 290 and float(a[10]) == 295


def test_cohort_page_renders_charts_with_table_alternatives(client, hand_cohort, manager):
    client.force_login(manager)
    page = client.get(reverse("cohorts:detail", args=[hand_cohort["cohort"].pk])).content.decode()
    assert page.count('<svg class="chart"') == 3
    assert "300 passes" in page  # the passing line of the histogram
    assert 'id="first-pass-rate">33%' in page and 'id="best-pass-rate">67%' in page
    assert "<title" in page and "<desc" in page
    assert page.count("Show as a table") == 2 and 'id="domain-table"' in page
    assert page.index("Carol") < page.index("Alice") < page.index("Bob")


def test_cohort_page_filters_change_the_figures_and_exports_follow(client, hand_cohort, manager):
    client.force_login(manager)
    url = reverse("cohorts:detail", args=[hand_cohort["cohort"].pk])
    query = {
        "form": hand_cohort["other_form"].pk,
        "date_from": "2026-01-01",
        "date_to": "2026-01-31",
    }
    page = client.get(url, query).content.decode()
    assert 'id="first-pass-rate">100%' in page
    export = client.get(
        reverse("cohorts:detail_export", args=[hand_cohort["cohort"].pk, "summary"]), query
    )
    summary = dict(rows_of(export)[1:])
    assert summary["exam_attempts"] == "1" and summary["first_attempt_pass_rate"] == "1"


def test_readiness_export_lists_every_member_in_page_order(client, hand_cohort, manager):
    client.force_login(manager)
    rows = rows_of(
        client.get(reverse("cohorts:detail_export", args=[hand_cohort["cohort"].pk, "readiness"]))
    )
    assert [r[0] for r in rows[1:]] == ["Carol", "Alice", "Dave", "Erin", "Frank", "Bob"]
    assert rows[2][2:6] == ["Borderline", "2", "310", "310"]


def test_other_exports_give_each_table(client, hand_cohort, manager):
    client.force_login(manager)
    pk = hand_cohort["cohort"].pk
    dist = rows_of(client.get(reverse("cohorts:detail_export", args=[pk, "distribution"])))
    assert len(dist) == 16 and dist[-1] == ["380", "400", "0"]
    trend = rows_of(client.get(reverse("cohorts:detail_export", args=[pk, "trend"])))
    assert trend[1][:3] == ["2026-01", "3", "1"]
    domains = rows_of(client.get(reverse("cohorts:detail_export", args=[pk, "domains"])))
    assert domains[1][0] == "1" and float(domains[1][2]) == pytest.approx(60.6, abs=0.1)
    candidate = rows_of(
        client.get(reverse("cohorts:candidate_export", args=[pk, hand_cohort["alice"].pk]))
    )
    assert [r[5] for r in candidate[1:]] == ["280", "310"]
    assert client.get(reverse("cohorts:detail_export", args=[pk, "secrets"])).status_code == 404


def test_csv_cells_that_look_like_formulas_are_defused(client, manager, django_user_model):
    from .conftest import make_candidate

    sneaky = make_candidate(django_user_model, "sneaky", first_name="=HYPERLINK(1)")
    cohort = make_cohort("=cmd", managers=[manager], candidates=[sneaky])
    client.force_login(manager)
    rows = rows_of(client.get(reverse("cohorts:detail_export", args=[cohort.pk, "readiness"])))
    assert rows[1][0] == "'=HYPERLINK(1)"
    assert rows_of(client.get(reverse("cohorts:dashboard_export")))[1][0] == "'=cmd"


@pytest.mark.parametrize(
    "setup, expected",
    [
        ("no cohorts", "Create a cohort"),
        ("no members", "No candidates yet"),
        ("no assignment", "Assign an exam form"),
        ("assigned, no results", "Results appear here as soon as candidates submit"),
    ],
)
def test_empty_states_say_what_to_do_next(client, manager, candidate, form, setup, expected):
    client.force_login(manager)
    if setup == "no cohorts":
        page = client.get(reverse("cohorts:dashboard")).content.decode()
    else:
        cohort = make_cohort(
            "Fresh", managers=[manager], candidates=[] if setup == "no members" else [candidate]
        )
        if setup == "assigned, no results":
            Assignment.objects.create(cohort=cohort, form=form)
        page = client.get(reverse("cohorts:detail", args=[cohort.pk])).content.decode()
    assert expected in page


def test_filtered_to_nothing_says_how_to_widen(client, hand_cohort, manager):
    client.force_login(manager)
    page = client.get(
        reverse("cohorts:detail", args=[hand_cohort["cohort"].pk]), {"date_from": "2030-01-01"}
    ).content.decode()
    assert "No scored exam attempts match these filters" in page


def test_manager_creates_a_cohort_and_becomes_its_manager(client, manager, instructor):
    client.force_login(manager)
    response = client.post(
        reverse("cohorts:create"),
        {
            "name": "Fall 2026",
            "program": program("a").pk,
            "start_date": "2026-09-01",
            "end_date": "2026-12-15",
            "instructors": [instructor.pk],
        },
    )
    cohort = Cohort.objects.get(name="Fall 2026")
    assert response.status_code == 302 and cohort.program == program("a")
    assert list(cohort.managers.all()) == [manager] and list(cohort.instructors.all()) == [
        instructor
    ]


def test_cohort_cannot_end_before_it_starts(client, manager):
    client.force_login(manager)
    response = client.post(
        reverse("cohorts:create"),
        {"name": "Backwards", "start_date": "2026-09-01", "end_date": "2026-08-01"},
    )
    assert response.status_code == 200 and not Cohort.objects.filter(name="Backwards").exists()
    assert "cannot end before it starts" in response.content.decode()


def test_manager_assigns_edits_and_removes_a_form(client, manager, form):
    cohort = make_cohort("Assigning", managers=[manager])
    client.force_login(manager)
    response = client.post(
        reverse("cohorts:assignment_add", args=[cohort.pk]),
        {
            "form": form.pk,
            "opens_at": "2026-03-01T09:00",
            "closes_at": "2026-03-31T17:00",
            "max_attempts": "2",
            "review_policy": "after_close",
        },
    )
    assert response.status_code == 302
    assignment = Assignment.objects.get(cohort=cohort)
    assert assignment.max_attempts == 2 and assignment.review_policy == "after_close"
    response = client.post(
        reverse("cohorts:assignment_edit", args=[cohort.pk, assignment.pk]),
        {
            "opens_at": "2026-03-01T09:00",
            "closes_at": "",
            "max_attempts": "3",
            "review_policy": "after_close",
        },
    )
    assert response.status_code == 400
    assert "only if it closes" in response.content.decode()
    response = client.post(reverse("cohorts:assignment_delete", args=[cohort.pk, assignment.pk]))
    assert response.status_code == 302 and not Assignment.objects.filter(cohort=cohort).exists()


def test_drafts_cannot_be_assigned(client, manager):
    from exams.models import ExamForm

    draft = ExamForm.objects.create(name="Draft")
    cohort = make_cohort("Assigning", managers=[manager])
    client.force_login(manager)
    response = client.post(
        reverse("cohorts:assignment_add", args=[cohort.pk]),
        {
            "form": draft.pk,
            "opens_at": "2026-03-01T09:00",
            "max_attempts": "1",
            "review_policy": "none",
        },
    )
    assert response.status_code == 400 and not Assignment.objects.exists()


def test_accommodation_out_of_range_is_refused(client, hand_cohort, manager):
    from cohorts.models import Accommodation

    client.force_login(manager)
    url = reverse("cohorts:accommodation", args=[hand_cohort["cohort"].pk, hand_cohort["bob"].pk])
    response = client.post(url, {"time_multiplier": "9"}, follow=True)
    assert not Accommodation.objects.filter(user=hand_cohort["bob"]).exists()
    assert "less than or equal to 4" in response.content.decode()
    client.post(url, {"time_multiplier": "2.00", "note": "ADA letter"})
    profile = Accommodation.objects.get(user=hand_cohort["bob"])
    assert str(profile.time_multiplier) == "2.00" and profile.note == "ADA letter"


def test_long_readiness_lists_show_those_who_need_help_first_then_all_on_request(
    client, manager, django_user_model, form, settings
):
    from cohorts import views

    from .conftest import make_candidate, sit

    people = [make_candidate(django_user_model, f"r{i:02d}") for i in range(5)]
    cohort = make_cohort("Long", managers=[manager], candidates=people)
    for i, person in enumerate(people):
        sit(person, form, scaled=200 + 40 * i)
    client.force_login(manager)
    url = reverse("cohorts:detail", args=[cohort.pk])
    shown, views.READINESS_SHOWN = views.READINESS_SHOWN, 2
    try:
        page = client.get(url).content.decode()
        assert "R00" in page and "R01" in page and "R04" not in page
        assert "Show all 5 candidates" in page
        page = client.get(url, {"all": "1"}).content.decode()
        assert "R04" in page and "Show all" not in page
    finally:
        views.READINESS_SHOWN = shown
