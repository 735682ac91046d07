"""Shared content (no program: the sample bank, its demo forms, blueprints, conversion
tables) is assigned by every program and changed by the platform operator alone: each
admin path is read-only for staff, and each service refuses them with a clear message."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import reverse

from exams import services as exam_services
from exams.models import Blueprint, BlueprintDomain, ExamForm
from questionbank import services as bank_services
from questionbank.exchange import FORMAT, FORMAT_VERSION, BankImportError, bank_import
from questionbank.models import AngoffRating, Case, ItemStatus, ItemVersion
from scoring import services as scoring_services
from scoring.cut_proposals import cut_proposal_create
from scoring.models import BaseForm, ScaleConversion
from tests.conftest import program
from tests.factories import CaseFactory, ItemVersionFactory, blueprint_with, scored_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared(admin_user):
    form = scored_form({1: 4}, rating=0.5, name="Shared demo form")
    version = ItemVersion.objects.filter(form_items__form=form).first()
    case = CaseFactory()  # no program: shared
    BaseForm.objects.create(blueprint=form.blueprint, form=form, set_by=admin_user)
    return {
        "form": form,
        "version": version,
        "case": case,
        "blueprint": form.blueprint,
        "domain_row": BlueprintDomain.objects.filter(blueprint=form.blueprint).first(),
        "conversion": ScaleConversion.objects.get(form=form),
        "rating": AngoffRating.objects.filter(item_version=version).first(),
        "baseform": BaseForm.objects.get(form=form),
    }


def _admin_allows(user, model, action, obj):
    request = RequestFactory().get("/")
    request.user = user
    return getattr(admin.site._registry[model], f"has_{action}_permission")(request, obj)


@pytest.mark.parametrize(
    "key,model",
    [
        ("version", ItemVersion),
        ("case", Case),
        ("form", ExamForm),
        ("blueprint", Blueprint),
        ("conversion", ScaleConversion),
        ("rating", AngoffRating),
        ("baseform", BaseForm),
    ],
)
def test_the_admin_lets_only_the_operator_change_or_delete_shared_content(
    shared, instructor, manager, admin_user, key, model
):
    obj = shared[key]
    assert _admin_allows(instructor, model, "view", obj)  # assignable, so readable
    for staff in (instructor, manager):
        assert not _admin_allows(staff, model, "change", obj), (key, staff)
        assert not _admin_allows(staff, model, "delete", obj), (key, staff)
    if model not in (ScaleConversion, AngoffRating):  # computed / the judge's own: no one
        assert _admin_allows(admin_user, model, "change", obj)


def test_an_instructors_post_to_a_shared_blueprint_is_refused_and_changes_nothing(
    client, shared, instructor
):
    blueprint = shared["blueprint"]
    client.force_login(instructor)
    url = reverse("admin:exams_blueprint_change", args=[blueprint.pk])
    assert client.get(url).status_code == 200  # readable: forms are assembled from it
    response = client.post(url, {"name": "Renamed", "total_items": 99})
    assert response.status_code == 403
    blueprint.refresh_from_db()
    assert blueprint.name != "Renamed"
    assert client.get(reverse("admin:exams_blueprint_add")).status_code == 403
    inline = admin.site._registry[Blueprint].inlines[0](Blueprint, admin.site)
    request = RequestFactory().get("/")
    request.user = instructor
    assert not inline.has_change_permission(request, blueprint)
    assert not inline.has_delete_permission(request, blueprint)


def test_an_instructors_post_to_a_shared_item_version_is_refused(client, shared, instructor):
    version = shared["version"]
    client.force_login(instructor)
    url = reverse("admin:questionbank_itemversion_change", args=[version.pk])
    response = client.post(url, {"stem": "Changed by an instructor"})
    assert response.status_code == 403
    assert ItemVersion.objects.get(pk=version.pk).stem != "Changed by an instructor"


def test_services_refuse_staff_changes_to_shared_content(shared, instructor, manager):
    version, form = shared["version"], shared["form"]
    with pytest.raises(PermissionDenied, match="operator"):
        bank_services.item_revise(version=version, by=instructor, stem="Changed stem text.")
    with pytest.raises(PermissionDenied, match="operator"):
        bank_services.item_version_transition(
            version=version, to_status=ItemStatus.RETIRED, by=instructor
        )
    with pytest.raises(PermissionDenied, match="operator"):
        bank_services.angoff_rating_set(version=version, judge=instructor, rating="0.9")
    with pytest.raises(PermissionDenied, match="form's program"):
        exam_services.form_set_availability(form=form, available_to_all=False, by=instructor)
    with pytest.raises(PermissionDenied, match="operator"):
        scoring_services.base_form_set(blueprint=form.blueprint, form=form, by=instructor)
    for staff in (instructor, manager):
        with pytest.raises(PermissionDenied, match="operator"):
            cut_proposal_create(form=form, cut=3.0, reason="x", by=staff)
    assert not AngoffRating.objects.filter(judge=instructor).exists()
    assert ScaleConversion.objects.get(form=form).cut == shared["conversion"].cut


def test_a_draft_shared_form_cannot_be_published_by_staff(instructor):
    blueprint = blueprint_with({1: 1})
    ItemVersionFactory(status=ItemStatus.OPERATIONAL)
    draft = ExamForm.objects.create(name="Shared draft", blueprint=blueprint, seed=1)
    with pytest.raises(PermissionDenied, match="form's program"):
        exam_services.form_publish(form=draft, by=instructor)


def test_a_program_form_cannot_become_the_base_of_a_shared_blueprint(instructor, admin_user):
    form = scored_form({1: 4}, rating=0.5, program="a")
    with pytest.raises(PermissionDenied, match="operator"):
        scoring_services.base_form_set(blueprint=form.blueprint, form=form, by=instructor)
    assert scoring_services.base_form_set(blueprint=form.blueprint, form=form, by=admin_user)


def test_an_import_cannot_change_a_shared_case_or_item(shared, instructor):
    case = shared["case"]
    doc = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "cases": [
            {
                "key": case.key,
                "title": "Changed by an import",
                "setting": case.setting,
                "code_set_year": case.code_set_year,
                "sections": case.sections,
            }
        ],
        "items": [],
    }
    with pytest.raises(BankImportError, match="cannot change"):
        bank_import(doc, by=instructor, program=program("a"))
    assert Case.objects.get(pk=case.pk).title != "Changed by an import"
