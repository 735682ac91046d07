"""Instructors' view of scoring: conversion tables, proposed cuts, base forms, item
calibrations and stored attempt results. Everything computed is read-only here; a cut
changes only when a second person confirms a proposal (scoring.cut_proposals), which
applies it through scoring.services.form_cut_override."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from common.admin_display import person_field
from exams.models import ExamForm, FormKind
from scoring import cut_proposals, services
from scoring.cut_proposals import may_decide_cut
from scoring.models import (
    AttemptResult,
    BaseForm,
    ConversionMethod,
    ConversionVersion,
    CutProposal,
    CutProposalStatus,
    ItemCalibration,
    ResultHistory,
    ScaleConversion,
)
from tenancy.admin_scoping import ProgramScopedAdmin


class ProposeCutForm(forms.Form):
    cut = forms.FloatField(
        label="Proposed raw cut",
        help_text="The raw score a minimally competent candidate is expected to reach; may "
        "be fractional. The first whole raw score at or above it scores 300.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why the cut should change (kept on record with your name and the time, and "
        "shown to the colleague who confirms or rejects it).",
    )


# A constant attribute: safe as written.
_PASSING_CELL = mark_safe(' class="admin-passing-cell"')  # noqa: S308


def _table_rows(conversion: ScaleConversion, columns: int = 10):
    """The raw → scaled table as rows of (raw, scaled, is the passing raw score)."""
    cells = [
        (raw, scaled, raw == conversion.raw_passing_score)
        for raw, scaled in enumerate(conversion.table)
    ]
    return [cells[i : i + columns] for i in range(0, len(cells), columns)]


class ExamFormOnlyFilter(admin.RelatedOnlyFieldListFilter):
    """Forms with results, without the candidates' practice sets (one per session), which
    would crowd the list; the mode filter still shows practice results."""

    def field_choices(self, field, request, model_admin):
        exam_forms = set(
            ExamForm.objects.exams().visible_to(request.user).values_list("pk", flat=True)
        )
        return [
            (pk, label)
            for pk, label in super().field_choices(field, request, model_admin)
            if pk in exam_forms
        ]


def _method_label(method: str) -> str:
    return dict(ConversionMethod.choices).get(method, method)


@admin.register(ScaleConversion)
class ScaleConversionAdmin(ProgramScopedAdmin):
    program_path = "form__owner_program"
    shared_when_null = True

    list_display = [
        "form",
        "version",
        "method",
        "cut_display",
        "raw_passing_score",
        "max_raw",
        "overridden_by",
        "overridden_at",
        "created_at",
    ]
    list_filter = ["method"]
    search_fields = ["form__name"]
    list_select_related = ["form", "overridden_by"]
    fields = [
        "form",
        "version",
        "versions_display",
        "method",
        "cut_display",
        "raw_passing_score",
        "max_raw",
        "base_form",
        "derivation_display",
        "table_display",
        "override_reason",
        "overridden_by_name",
        "overridden_at",
        "created_at",
    ]
    readonly_fields = fields
    change_form_template = "scoring/admin/scaleconversion_change_form.html"

    overridden_by_name = person_field("overridden_by")

    def has_add_permission(self, request):
        return False  # built by publishing a form

    def has_delete_permission(self, request, obj=None):
        return False  # attempts were scored with it

    def has_change_permission(self, request, obj=None):
        return False  # read-only fields; the cut changes only through the override view

    @admin.display(description="raw cut")
    def cut_display(self, obj):
        return f"{obj.cut:.2f}"

    @admin.display(description="versions")
    def versions_display(self, obj):
        rows = ConversionVersion.objects.filter(form_id=obj.form_id).order_by("-version")
        return format_html(
            "<table><thead><tr><th>Version</th><th>Method</th><th>Cut</th><th>Raw to pass</th>"
            "<th>When</th><th>Why</th></tr></thead><tbody>{}</tbody></table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        v.version,
                        _method_label(v.method),
                        f"{v.cut:.2f}",
                        v.raw_passing_score,
                        v.created_at.strftime("%Y-%m-%d %H:%M"),
                        v.reason,
                    )
                    for v in rows
                ),
            ),
        )

    @admin.display(description="how the cut was derived")
    def derivation_display(self, obj):
        d = obj.derivation or {}
        lines = []
        if d.get("source"):
            lines.append(d["source"])
        if obj.method == "angoff" or "judges" in d:
            lines.append(
                f"{len(d.get('judges', []))} judges, {d.get('ratings', 0)} ratings on "
                f"{d.get('items', obj.max_raw)} operational items "
                f"({d.get('filled', 0)} missing ratings filled with the item's mean)."
            )
            lines += [
                f"{j['username']}: {j['rated']} rated, sum {j['sum']:.2f}"
                for j in d.get("judges", [])
            ]
        if "base_form" in d:
            lines.append(
                f"Base form {d['base_form']} ({d.get('base_items')} items, cut "
                f"{d.get('base_cut', 0):.2f}); ability at the cut θ = {d.get('theta_cut', 0):.3f}."
            )
        if d.get("not_equated"):
            lines.append(f"Not equated: {d['not_equated']}.")
        for o in d.get("overrides", []):
            lines.append(
                f"Overridden by {o['by']} at {o['at'][:16].replace('T', ' ')}: cut "
                f"{o['previous_cut']:.2f} ({_method_label(o['previous_method'])}) → "
                f"{o['cut']:.2f}. "
                f"Reason: {o['reason']}"
            )
        return format_html_join("", "<p>{}</p>", ((line,) for line in lines))

    @admin.display(description="raw → scaled")
    def table_display(self, obj):
        body = format_html_join(
            "",
            "<tr>{}</tr>",
            (
                (
                    format_html_join(
                        "",
                        '<td{}><span class="admin-muted">{}</span>&nbsp;→&nbsp;<b>{}</b></td>',
                        (
                            (
                                _PASSING_CELL if passing else "",
                                raw,
                                scaled,
                            )
                            for raw, scaled, passing in row
                        ),
                    ),
                )
                for row in _table_rows(obj)
            ),
        )
        return format_html(
            '<table class="conversion-table">{}</table><p>Outlined: the raw passing score '
            "({}), the first to reach 300.</p>",
            body,
            obj.raw_passing_score,
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        custom = [
            path(
                "<int:pk>/propose-cut/",
                view(self.propose_view),
                name="scoring_scaleconversion_propose",
            ),
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # Offered to the staff of the form's program (shared forms: the operator); the
        # cut changes only when a second person confirms the proposal.
        conversion = self.get_object(request, object_id)
        pending = None
        if conversion is not None:
            pending = CutProposal.objects.pending().filter(form_id=conversion.form_id).first()
        extra_context = {
            **(extra_context or {}),
            "can_propose": conversion is not None and may_decide_cut(request.user, conversion.form),
            "pending_proposal": pending,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def propose_view(self, request, pk):
        conversion = get_object_or_404(self.get_queryset(request).select_related("form"), pk=pk)
        if not may_decide_cut(request.user, conversion.form):
            raise PermissionDenied  # a shared form's cut is the operator's
        form = ProposeCutForm(request.POST or None, initial={"cut": round(conversion.cut, 2)})
        pending = CutProposal.objects.pending().filter(form_id=conversion.form_id).first()
        if request.method == "POST" and form.is_valid():
            try:
                proposal = cut_proposals.cut_proposal_create(
                    form=conversion.form,
                    cut=form.cleaned_data["cut"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request,
                    f"The new cut of {conversion.form} is proposed. Nothing changes until "
                    "another member of the program confirms it.",
                    messages.SUCCESS,
                )
                return redirect("admin:scoring_cutproposal_decide", proposal.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Propose a new cut for {conversion.form}",
            "conversion": conversion,
            "pending": pending,
            "scored": AttemptResult.objects.filter(
                attempt__form_id=conversion.form_id, attempt__mode="exam"
            ).count(),
            "form": form,
            "change_url": reverse("admin:scoring_scaleconversion_change", args=[pk]),
        }
        return TemplateResponse(
            request,
            "scoring/admin/propose_cut.html",
            context,
            status=400 if form.errors else 200,
        )


class DecideCutForm(forms.Form):
    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note",
        help_text="Required to reject; kept on record with your name and the time.",
    )


@admin.register(CutProposal)
class CutProposalAdmin(ProgramScopedAdmin):
    """Proposed cuts and what became of them: read-only here; a second person confirms or
    rejects on the decision page (scoring.cut_proposals)."""

    program_path = "form__owner_program"
    shared_when_null = True
    list_display = [
        "form",
        "previous_cut",
        "cut",
        "status",
        "proposed_by_name",
        "proposed_at",
        "decided_by_name",
        "decided_at",
    ]
    list_filter = ["status"]
    search_fields = ["form__name", "reason"]
    list_select_related = ["form", "proposed_by", "decided_by"]
    fields = [
        "form",
        "previous_cut",
        "cut",
        "reason",
        "based_on_version",
        "status",
        "proposed_by_name",
        "proposed_at",
        "decided_by_name",
        "decided_at",
        "decision_note",
    ]
    readonly_fields = fields
    change_form_template = "scoring/admin/cutproposal_change_form.html"

    proposed_by_name = person_field("proposed_by")
    decided_by_name = person_field("decided_by")

    def has_add_permission(self, request):
        return False  # proposed from the conversion table's page

    def has_change_permission(self, request, obj=None):
        return False  # decided on the decision page, through the service

    def has_delete_permission(self, request, obj=None):
        return False  # part of the record

    def get_urls(self):
        view = self.admin_site.admin_view
        custom = [
            path("<int:pk>/decide/", view(self.decide_view), name="scoring_cutproposal_decide"),
        ]
        return custom + super().get_urls()

    def decide_view(self, request, pk):
        proposal = get_object_or_404(
            self.get_queryset(request).select_related("form", "proposed_by", "decided_by"),
            pk=pk,
        )
        if not self.has_view_permission(request, proposal):
            raise PermissionDenied
        may_decide = may_decide_cut(request.user, proposal.form)
        form = DecideCutForm(request.POST or None)
        if request.method == "POST":
            if not may_decide:
                raise PermissionDenied
            decision = request.POST.get("decision")
            if decision not in ("confirm", "reject"):
                form.add_error(None, "Choose to confirm or to reject the proposed cut.")
            elif form.is_valid():
                note = form.cleaned_data["note"]
                try:
                    if decision == "confirm":
                        cut_proposals.cut_proposal_confirm(
                            proposal=proposal, by=request.user, note=note
                        )
                        text = (
                            f"The cut of {proposal.form} is now {proposal.cut:g}; its scored "
                            "attempts are being rescored (earlier results stay in the result "
                            "history)."
                        )
                    else:
                        done = cut_proposals.cut_proposal_reject(
                            proposal=proposal, by=request.user, note=note
                        )
                        text = f"The proposed cut is {done.get_status_display().lower()}."
                except (ValidationError, PermissionDenied) as exc:
                    form.add_error(None, exc if isinstance(exc, ValidationError) else str(exc))
                else:
                    self.message_user(request, text, messages.SUCCESS)
                    return redirect("admin:scoring_cutproposal_change", pk)
        conversion = ScaleConversion.objects.filter(form_id=proposal.form_id).first()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Proposed cut for {proposal.form}",
            "proposal": proposal,
            "conversion": conversion,
            "stale": conversion is not None and conversion.version != proposal.based_on_version,
            "own": proposal.proposed_by_id == request.user.pk,
            "may_decide": may_decide and proposal.status == CutProposalStatus.PENDING,
            "form": form,
            "scored": AttemptResult.objects.filter(
                attempt__form_id=proposal.form_id, attempt__mode="exam"
            ).count(),
        }
        return TemplateResponse(
            request,
            "scoring/admin/decide_cut.html",
            context,
            status=400 if form.errors else 200,
        )


class BaseFormAdminForm(forms.ModelForm):
    class Meta:
        model = BaseForm
        fields = ["blueprint", "form"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if "form" in self.fields:  # absent on the read-only page of those who may not change
            self.fields["form"].queryset = ExamForm.objects.visible_to(user).filter(
                kind=FormKind.EXAM, conversion__isnull=False
            )

    def clean(self):
        data = super().clean()
        blueprint, form = data.get("blueprint"), data.get("form")
        if blueprint and form and form.blueprint_id != blueprint.pk:
            raise ValidationError(f"{form} is not a form of the blueprint {blueprint}.")
        return data


@admin.register(BaseForm)
class BaseFormAdmin(ProgramScopedAdmin):
    """A blueprint's base form anchors equating for every program using the blueprint:
    shared forms only, and the operator's to set."""

    program_path = "form__owner_program"
    shared_when_null = True
    form = BaseFormAdminForm
    list_display = ["blueprint", "form", "set_by", "set_at"]
    list_select_related = ["blueprint", "form", "set_by"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)

        class Bound(form):
            def __init__(self, *args, **kw):
                super().__init__(*args, user=request.user, **kw)

        return Bound

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    # Changing or removing a base form moves the standard of every form of the (shared)
    # blueprint, in every program: the operator's alone, like setting it.
    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        base = services.base_form_set(blueprint=obj.blueprint, form=obj.form, by=request.user)
        obj.pk = base.pk


@admin.register(ItemCalibration)
class ItemCalibrationAdmin(ProgramScopedAdmin):
    """Filled by item analysis; shown here so instructors can see what equating uses."""

    program_path = "item_version__item__owner_program"
    shared_when_null = True

    list_display = ["item_version", "difficulty", "se", "n_responses", "method", "calibrated_at"]
    list_filter = ["method"]
    search_fields = ["item_version__item__key"]
    list_select_related = ["item_version__item"]
    readonly_fields = ["item_version", "difficulty", "se", "n_responses", "method", "calibrated_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AttemptResult)
class AttemptResultAdmin(ProgramScopedAdmin):
    """Results of attempts sat under the user's programs' assignments (the operator: all)."""

    program_path = "attempt__program"
    list_display = [
        "attempt",
        "mode",
        "raw_score",
        "max_raw",
        "scaled_score",
        "passed",
        "pass_probability",
        "version",
        "scored_at",
    ]
    list_filter = ["passed", "attempt__mode", ("attempt__form", ExamFormOnlyFilter)]
    search_fields = ["attempt__candidate__username", "attempt__form__name"]
    list_select_related = ["attempt__candidate", "attempt__form"]
    exclude = ["item_scores"]

    @admin.display(description="mode", ordering="attempt__mode")
    def mode(self, obj):
        return obj.attempt.get_mode_display()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ResultHistory)
class ResultHistoryAdmin(ProgramScopedAdmin):
    """Results a rescoring replaced: read-only, with who, when and why; like the results,
    only those of attempts sat under the user's programs."""

    program_path = "attempt__program"

    list_display = [
        "attempt",
        "version",
        "scaled_score",
        "passed",
        "conversion_version",
        "scored_at",
        "superseded_at",
        "superseded_by",
        "reason",
    ]
    list_filter = ["passed"]
    search_fields = ["attempt__candidate__username", "attempt__form__name", "reason"]
    list_select_related = ["attempt__candidate", "attempt__form", "superseded_by"]
    exclude = ["superseded_by"]
    readonly_fields = ["superseded_by_name"]
    superseded_by_name = person_field("superseded_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
