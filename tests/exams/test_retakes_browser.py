"""A retake in Chromium: the instructions page says it is on a form not taken before (axe
clean), and starting it opens that new form."""

from __future__ import annotations

import pytest

from exams import services
from exams.models import Attempt, AttemptState, FormItem
from questionbank.models import ItemStatus, ItemVersion
from tests.a11y import assert_accessible
from tests.factories import judges, rate, scored_form, stock_bank

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COUNTS = {1: 3, 2: 2}


def test_a_retake_is_announced_and_opens_a_new_form(page, live_server, login_in_browser, candidate):
    form = scored_form(COUNTS, pretest=1, name="Browser retake")
    stock_bank(COUNTS, pretest=1)
    versions = ItemVersion.objects.filter(status=ItemStatus.OPERATIONAL).values_list(
        "pk", flat=True
    )
    rate(list(versions), rating=0.6, judges_=judges(1, prefix="bank-judge"))
    first = services.attempt_start(form=form, candidate=candidate)
    services.attempt_finalise(attempt_id=first.pk, state=AttemptState.SUBMITTED)

    login_in_browser(page, candidate)
    page.goto(f"{live_server.url}/exams/forms/{form.pk}/")
    notice = page.locator("#retake-notice")
    assert "Attempt 2: a form you have not taken" in notice.inner_text()
    assert_accessible(page)
    page.get_by_role("button", name="Start the exam").click()
    page.wait_for_selector("#q-heading")
    retake = Attempt.objects.exclude(pk=first.pk).get(candidate=candidate)
    assert retake.assigned_form_id == form.pk and retake.form_id != form.pk
    seen = set(FormItem.objects.filter(form=form).values_list("item_version__stem", flat=True))
    stem = page.locator("#stem").inner_text()
    assert stem and stem not in seen
