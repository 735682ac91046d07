"""No per-row queries: each page costs the same number of queries whatever the data size."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cohorts.models import Assignment, Membership

from .conftest import make_candidate, make_cohort, make_form, sit

pytestmark = pytest.mark.django_db

# Session, user, role check, and the page's own reads.
MAX_QUERIES = 14


def grow(django_user_model, cohorts, forms, start: int, count: int):
    """`count` more candidates in each cohort, each with two scored exams and a practice."""
    for cohort in cohorts:
        for i in range(start, start + count):
            user = make_candidate(django_user_model, f"c{cohort.pk}-{i}")
            Membership.objects.create(cohort=cohort, user=user)
            sit(user, forms[i % 2], day=i, scaled=200 + (i * 37) % 200, probability=0.4,
                domains={1: (30, 55), 2: (7, 14)})  # fmt: skip
            sit(user, forms[0], day=i + 30, scaled=250 + (i * 53) % 150)
            sit(user, forms[1], day=i + 2, scaled=390, mode="practice")


def pages(cohort, member_id):
    return {
        "list": reverse("cohorts:dashboard"),
        "list export": reverse("cohorts:dashboard_export"),
        "cohort": reverse("cohorts:detail", args=[cohort.pk]),
        "cohort filtered": reverse("cohorts:detail", args=[cohort.pk])
        + "?date_from=2026-01-01&form=1",
        "readiness export": reverse("cohorts:detail_export", args=[cohort.pk, "readiness"]),
        "domains export": reverse("cohorts:detail_export", args=[cohort.pk, "domains"]),
        "members": reverse("cohorts:members", args=[cohort.pk]),
        "candidate": reverse("cohorts:candidate", args=[cohort.pk, member_id]),
        "candidate export": reverse("cohorts:candidate_export", args=[cohort.pk, member_id]),
        "settings": reverse("cohorts:settings", args=[cohort.pk]),
    }


def count_queries(client, urls) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200, name
        counts[name] = len(captured)
    return counts


def test_queries_per_page_do_not_grow_with_candidates_attempts_or_cohorts(
    client, manager, django_user_model, django_assert_max_num_queries
):
    forms = [make_form("F1"), make_form("F2")]
    cohorts = [make_cohort(f"Q{i}", managers=[manager]) for i in range(2)]
    for cohort in cohorts:
        Assignment.objects.create(cohort=cohort, form=forms[0])
    grow(django_user_model, cohorts, forms, 0, 2)
    member = Membership.objects.filter(cohort=cohorts[0]).first().user_id
    client.force_login(manager)
    urls = pages(cohorts[0], member)
    small = count_queries(client, urls)

    grow(django_user_model, cohorts, forms, 2, 18)
    cohorts.append(make_cohort("Q-new", managers=[manager]))
    grow(django_user_model, cohorts[2:], forms, 0, 5)
    large = count_queries(client, urls)

    assert large == small
    for url in urls.values():
        cache.clear()
        with django_assert_max_num_queries(MAX_QUERIES):
            client.get(url)
