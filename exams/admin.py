from __future__ import annotations

import secrets

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from common.admin_display import person_field
from exams import selectors, services
from exams.forms import AssembleForm, BlueprintDomainFormSet
from exams.models import (
    Attempt,
    Blueprint,
    BlueprintDomain,
    ExamForm,
    FormItem,
)
from tenancy.admin_scoping import ProgramScopedAdmin
from tenancy.scoping import is_operator


class BlueprintDomainInline(admin.TabularInline):
    model = BlueprintDomain
    formset = BlueprintDomainFormSet
    extra = 0
    min_num = 1

    # The domain counts are part of the shared blueprint: the operator's, like it.
    def has_add_permission(self, request, obj=None):
        return is_operator(request.user)

    def has_change_permission(self, request, obj=None):
        return is_operator(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_operator(request.user)


@admin.register(Blueprint)
class BlueprintAdmin(admin.ModelAdmin):
    """Blueprints belong to no program: every program assembles forms from them and a
    blueprint's base form anchors the equating of all their forms, so they are shared
    content, read by staff and changed by the platform operator alone."""

    list_display = ["name", "total_items", "pretest_count", "time_limit_minutes", "warning_minutes"]
    inlines = [BlueprintDomainInline]
    fields = [
        "name",
        "description",
        "total_items",
        "pretest_count",
        "time_limit_minutes",
        "warning_minutes",
        "shuffle_items",
        "shuffle_options",
    ]

    def has_add_permission(self, request):
        return is_operator(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return is_operator(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_operator(request.user) and super().has_delete_permission(request, obj)


class FormItemInline(admin.TabularInline):
    model = FormItem
    fields = ["position", "item_version", "domain", "is_pretest"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description="domain")
    def domain(self, obj):
        return obj.item_version.domain.number

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("item_version__item", "item_version__domain")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.action(description="Publish (freezes the form and locks its items)")
def publish_forms(modeladmin, request, queryset):
    for form in queryset.editable_by(request.user):
        try:
            services.form_publish(form=form, by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            modeladmin.message_user(request, f"{form}: {text}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{form} is published.", messages.SUCCESS)


def _availability_action(value: bool, label: str):
    def action(modeladmin, request, queryset):
        # Shared forms are the operator's: staff change only their programs' forms.
        forms = list(queryset.editable_by(request.user))
        for form in forms:
            services.form_set_availability(form=form, available_to_all=value, by=request.user)
        modeladmin.message_user(request, f"{label}: {len(forms)} form(s).", messages.SUCCESS)

    action.__name__ = f"make_available_{value}".lower()
    return admin.action(description=label)(action)


@admin.register(ExamForm)
class ExamFormAdmin(ProgramScopedAdmin):
    program_path = "owner_program"
    shared_when_null = True
    list_display = [
        "name",
        "owner_program",
        "blueprint",
        "status",
        "available_to_all",
        "item_count",
        "published_at",
        "tools",
    ]
    list_filter = [
        "status",
        "blueprint",
        "available_to_all",
        ("owner_program", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name"]
    list_select_related = ["owner_program", "blueprint"]
    inlines = [FormItemInline]
    actions = [
        publish_forms,
        _availability_action(True, "Make available to all candidates"),
        _availability_action(False, "Withdraw from candidates"),
    ]
    fields = [
        "name",
        "owner_program",
        "blueprint",
        "seed",
        "status",
        "published_at",
        "time_limit_minutes",
        "warning_minutes",
        "shuffle_items",
        "shuffle_options",
        "allow_review",
        "codebook_panel",
        "available_to_all",
        "created_by_name",
    ]
    readonly_fields = [
        "owner_program",
        "blueprint",
        "seed",
        "status",
        "published_at",
        "created_by_name",
    ]
    change_list_template = "admin/exams/examform/change_list.html"

    created_by_name = person_field("created_by")

    def get_queryset(self, request):
        # Practice sets are per-candidate scratch forms, not part of the instructors' list.
        return super().get_queryset(request).exams().annotate(item_total=Count("items"))

    def save_model(self, request, obj, form, change):
        obj._history_user = request.user
        super().save_model(request, obj, form, change)

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_published:
            return [f for f in self.fields if f != "available_to_all"]
        return self.readonly_fields

    def has_add_permission(self, request):
        return False  # forms are assembled from a blueprint, not typed in

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            del actions["delete_selected"]  # would bypass the published-form check per row
        return actions

    @admin.display(description="items")
    def item_count(self, obj):
        return obj.item_total

    @admin.display(description="")
    def tools(self, obj):
        return format_html(
            '<a href="{}">Preview</a>', reverse("admin:exams_examform_preview", args=[obj.pk])
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        custom = [
            path("assemble/", view(self.assemble_view), name="exams_examform_assemble"),
            path("<int:pk>/preview/", view(self.preview_view), name="exams_examform_preview"),
            path("<int:pk>/publish/", view(self.publish_view), name="exams_examform_publish"),
        ]
        return custom + super().get_urls()

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def assemble_view(self, request):
        if not request.user.has_perm("exams.add_examform"):
            raise PermissionDenied
        initial = {"seed": secrets.randbelow(10**6), "blueprint": Blueprint.objects.first()}
        form = AssembleForm(request.POST or None, initial=initial, user=request.user)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            exclude = FormItem.objects.filter(form__in=data["exclude_forms"]).values_list(
                "item_version_id", flat=True
            )
            try:
                exam_form = services.form_assemble(
                    blueprint=data["blueprint"],
                    seed=data["seed"],
                    name=data["name"],
                    by=request.user,
                    exclude_versions=list(exclude),
                    owner_program_id=data["program"].pk if data["program"] else None,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                self.message_user(
                    request,
                    f"Assembled {exam_form} (draft); {exam_form.assembly_report}. "
                    "Check it, then publish.",
                )
                return redirect("admin:exams_examform_preview", exam_form.pk)
        context = self._context(request, title="Assemble a form", form=form)
        return TemplateResponse(request, "admin/exams/examform/assemble.html", context)

    def preview_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        exam_form = get_object_or_404(self.get_queryset(request), pk=pk)
        items, per_domain = selectors.form_preview(form=exam_form)
        context = self._context(
            request,
            title=f"Preview of {exam_form}",
            exam_form=exam_form,
            items=items,
            per_domain=per_domain,
            pretest=sum(1 for i in items if i.is_pretest),
            enemy_pairs=selectors.form_enemy_pairs(form=exam_form),
            can_publish=(
                request.user.has_perm("exams.publish_examform")
                and not exam_form.is_published
                and self.may_change_object(request, exam_form)
            ),
        )
        return TemplateResponse(request, "admin/exams/examform/preview.html", context)

    def publish_view(self, request, pk):
        if request.method != "POST":
            return redirect("admin:exams_examform_preview", pk)
        exam_form = get_object_or_404(self.get_queryset(request), pk=pk)
        try:
            services.form_publish(form=exam_form, by=request.user)
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            self.message_user(request, text, messages.ERROR)
        else:
            self.message_user(request, f"{exam_form} is published.", messages.SUCCESS)
        return redirect("admin:exams_examform_preview", pk)


@admin.register(Attempt)
class AttemptAdmin(ProgramScopedAdmin):
    """Attempts sat under the user's programs' assignments (the operator: all); practice
    and open forms sat outside any program are the candidate's own."""

    list_display = [
        "candidate_name",
        "form",
        "program",
        "mode",
        "state",
        "started_at",
        "deadline",
        "raw_score",
    ]
    list_filter = ["mode", "state", ("form", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["candidate__username", "form__name"]
    list_select_related = ["candidate", "form", "program"]
    date_hierarchy = "started_at"
    exclude = ["layout"]

    candidate_name = person_field("candidate")

    def get_fields(self, request, obj=None):
        # The model's fields, in order, with the candidate by name: every field is read-only
        # here (no change permission), and Django would link the candidate to the user admin.
        return [
            "candidate_name" if f == "candidate" else f for f in super().get_fields(request, obj)
        ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
