import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from cohorts.demo_data import DEMO_COHORTS, DEMO_OTHER
from cohorts.models import Cohort, Membership
from exams.models import Attempt
from scoring.models import AttemptResult

pytestmark = pytest.mark.django_db


def test_generate_demo_data_inserts_what_it_was_asked_for(manager):
    call_command(
        "generate_demo_data", "--cohorts", "4", "--candidates", "80", "--attempts", "300",
        "--seed", "3", "--manager", manager.username,
    )  # fmt: skip
    assert Cohort.objects.managed_by(manager).count() == 4
    assert Membership.objects.count() == 80
    assert Attempt.objects.exams().count() == 300
    scores = AttemptResult.objects.values_list("scaled_score", flat=True)
    assert AttemptResult.objects.count() >= 290  # a few may still be in progress
    assert min(scores) >= 100 and max(scores) <= 400
    assert 0.1 < AttemptResult.objects.filter(passed=True).count() / len(scores) < 0.9


def test_unknown_manager_is_refused():
    with pytest.raises(CommandError, match="no user named ghost"):
        call_command(
            "generate_demo_data", "--cohorts", "1", "--candidates", "1", "--manager", "ghost"
        )


def test_demo_mode_needs_the_demo_accounts():
    with pytest.raises(CommandError, match="run seed_demo first"):
        call_command("generate_demo_data", "--demo")


def test_demo_mode_gives_demo_manager_two_cohorts_and_someone_else_one(client, settings):
    settings.DEBUG = True
    call_command("seed_demo", "--no-bank")
    call_command("generate_demo_data", "--demo")
    call_command("generate_demo_data", "--demo")  # idempotent
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    manager = users.get(username="demo-manager")
    assert sorted(Cohort.objects.managed_by(manager).values_list("name", flat=True)) == sorted(
        DEMO_COHORTS
    )
    other = Cohort.objects.get(name=DEMO_OTHER)
    first = Cohort.objects.get(name=DEMO_COHORTS[0])
    assert first.memberships.filter(user__username="demo-candidate").exists()
    assert first.instructors.filter(username="demo-instructor").exists()
    client.force_login(manager)
    page = client.get(reverse("cohorts:detail", args=[first.pk])).content.decode()
    assert '<svg class="chart"' in page
    assert client.get(reverse("cohorts:detail", args=[other.pk])).status_code == 404
