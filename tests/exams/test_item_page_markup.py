"""The item page's markup for the tools and the accessibility fixes (browser tests use them)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from exams import services
from exams.models import Attempt
from tests.factories import bank_case, bank_items, published_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def cand_client(client, candidate):
    client.force_login(candidate)
    return client


def test_case_record_is_a_labelled_keyboard_scrollable_region(cand_client, candidate):
    bank_case([1, 1])
    form = published_form({1: 2}, stock=False, name="Case form")
    attempt = services.attempt_start(form=form, candidate=candidate)
    page = cand_client.get(reverse("exams:item", args=[attempt.pk, 1])).content.decode()
    record = re.search(r"<aside [^>]*class=\"case-doc\"[^>]*>", page).group(0)
    assert 'role="region"' in record and 'tabindex="0"' in record
    assert 'aria-label="Health record"' in record


def test_tools_are_buttons_with_their_words_and_no_inline_script_or_style(cand_client, candidate):
    attempt = services.attempt_start(form=published_form({1: 2}), candidate=candidate)
    page = cand_client.get(reverse("exams:item", args=[attempt.pk, 1])).content.decode()
    for word in ("Highlight", "Calculator", "Text size", "High contrast", "Hide timer"):
        assert re.search(rf"<button [^>]*>{word}", page), word
    # Outside the <template> exam.js clones to show other items from the payload.
    shown = re.sub(r"<template .*?</template>", "", page, flags=re.S)
    assert shown.count(">Strike out<span") == len(attempt.layout[0][2])
    assert 'id="calculator"' in page and "<dialog" in page
    assert not re.search(r"\son[a-z]+=", page)  # no inline event handlers
    assert " style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # every script is a file


def test_practice_feedback_marks_the_keyed_option(cand_client, candidate):
    bank_items(1, 1)
    cand_client.post(reverse("exams:practice"), {"domains": ["1"], "count": "1", "timed": ""})
    practice = Attempt.objects.get(mode="practice")
    cand_client.post(reverse("exams:check", args=[practice.pk, 1]), {"choice": "0"})
    page = cand_client.get(reverse("exams:item", args=[practice.pk, 1])).content.decode()
    keyed = re.findall(r'<li class="option-row keyed" data-option="(\d+)">', page)
    option_ids = practice.layout[0][2]
    from questionbank.models import Option

    keys = set(Option.objects.filter(pk__in=option_ids, is_key=True).values_list("pk", flat=True))
    assert [int(i) for i in keyed] == [i for i, pk in enumerate(option_ids) if pk in keys]
    assert page.count("the correct answer</span>") == len(keys)


def test_no_key_marking_before_checking_or_in_an_exam(cand_client, candidate):
    attempt = services.attempt_start(form=published_form({1: 2}), candidate=candidate)
    page = cand_client.get(reverse("exams:item", args=[attempt.pk, 1])).content.decode()
    assert "keyed" not in page and "the correct answer" not in page


def test_option_rows_match_the_template_exam_js_clones_and_escape_the_text(cand_client, candidate):
    """The rows are built in Python (exams.markup): the same elements, classes and
    attributes as tpl-option, the option's own text escaped, the saved answer checked."""
    from questionbank.models import Option

    attempt = services.attempt_start(form=published_form({1: 2}), candidate=candidate)
    option_ids = attempt.layout[0][2]
    Option.objects.filter(pk=option_ids[1]).update(text='Code <b>"A"</b> & more')
    cand_client.post(
        reverse("exams:save", args=[attempt.pk, 1]), {"choice": "1"}, HTTP_HX_REQUEST="true"
    )
    page = cand_client.get(reverse("exams:item", args=[attempt.pk, 1])).content.decode()
    shown = re.sub(r"<template .*?</template>", "", page, flags=re.S)
    rows = re.findall(r'<li class="option-row" data-option="(\d+)">(.*?)</li>', shown, re.S)
    assert [int(i) for i, _ in rows] == list(range(len(option_ids)))
    template = re.search(r'<template id="tpl-option">(.*?)</template>', page, re.S).group(1)
    # exam.js writes the letter into this span; the server writes the letter itself.
    template = template.replace('<span class="strike-letter"></span>', "")
    tags = lambda html: re.findall(r"<(\w+)((?: class=\"[^\"]*\")?)", html)  # noqa: E731
    for index, row in rows:
        assert tags(row) == tags(template.split('data-option="">', 1)[1]), index
        assert f'name="choice" value="{index}"' in row
        assert ("checked" in row) == (index == "1")
    assert "Code &lt;b&gt;&quot;A&quot;&lt;/b&gt; &amp; more" in shown
    assert "<b>" not in shown


def test_code_book_panel_is_beside_the_item_only_when_the_form_has_it(cand_client, candidate):
    from django.db import connection
    from django.template.loader import render_to_string

    form = published_form({1: 2})
    attempt = services.attempt_start(form=form, candidate=candidate)
    page = cand_client.get(reverse("exams:item", args=[attempt.pk, 1])).content.decode()
    # Made once per process: the same markup the template renders.
    assert render_to_string("codebook/_panel.html", {"system": "cm"}) in page
    assert f'action="{reverse("codebook:search")}"' in page
    other = published_form({1: 2}, stock=False, name="No code book")
    with connection.cursor() as cursor:  # a published form refuses changes through the ORM
        cursor.execute(
            "UPDATE exams_examform SET codebook_panel = %s WHERE id = %s", [False, other.pk]
        )
    attempt = services.attempt_start(form=other, candidate=candidate)
    page = cand_client.get(reverse("exams:item", args=[attempt.pk, 1])).content.decode()
    assert "data-codebook-panel" not in page
