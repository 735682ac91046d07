"""The instructor's first session, in a real browser: case, two items, review, preview."""

import pytest

from questionbank.models import Case, ItemVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def add_item(page, base, case_title, key, stem, options, keyed):
    page.goto(f"{base}/admin/questionbank/itemversion/add/")
    page.fill("#id_item_key", key)
    page.select_option("#id_domain", label="1. Coding Knowledge and Skills")
    page.select_option("#id_case", label=case_title)
    page.fill("#id_stem", stem)
    page.fill("#id_rationale", "Section I.C.9.a.1 presumes the causal link.")
    page.fill("#id_code_set_year", "2026")
    # The form starts with three option rows (the minimum) plus one extra.
    for index, text in enumerate(options):
        page.fill(f"#id_options-{index}-text", text)
        if index == keyed:
            page.check(f"#id_options-{index}-is_key")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")


def test_instructor_creates_a_case_with_two_items_sends_one_to_review_and_previews_it(
    live_server, page, login_in_browser, instructor
):
    base = live_server.url
    login_in_browser(page, instructor)
    assert page.url.endswith("/admin/questionbank/itemversion/")

    page.goto(f"{base}/admin/questionbank/case/add/")
    page.fill("#id_key", "IP-B1")
    page.fill("#id_title", "Hypertensive heart disease admission")
    page.select_option("#id_setting", "inpatient")
    page.fill("#id_code_set_year", "2026")
    page.fill(
        "#id_documentation",
        "## History and physical\nLong-standing hypertension, new dyspnea.\n\n"
        "## Discharge summary\nAcute on chronic diastolic heart failure due to hypertension.",
    )
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    title = str(Case.objects.get(key="IP-B1"))

    add_item(
        page, base, title, "B1-1", "Which code is sequenced first?", ["I11.0", "I50.33", "I10"], 0
    )
    add_item(
        page,
        base,
        title,
        "B1-2",
        "Which heart failure code is added?",
        ["I50.33", "I50.9", "I50.30"],
        0,
    )
    assert ItemVersion.objects.filter(case__key="IP-B1").count() == 2

    page.goto(f"{base}/admin/questionbank/itemversion/")
    row = page.locator("#result_list tr", has_text="B1-1")
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", label="Send to review")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist .success")
    assert ItemVersion.objects.get(item__key="B1-1").status == "in_review"
    assert ItemVersion.objects.get(item__key="B1-2").status == "draft"

    page.locator("#result_list a", has_text="B1-1").click()
    page.click("text=Preview as candidate")
    preview = page.locator(".candidate-view")
    assert "Which code is sequenced first?" in preview.inner_text()
    assert "Long-standing hypertension" in preview.inner_text()
    assert preview.locator("input[type=radio]").count() == 3
