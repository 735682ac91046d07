from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Avg, Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from common.admin_display import person_field
from questionbank import qti_admin, services
from questionbank.coding import case_drg
from questionbank.exchange import BankImportError, bank_export, bank_import_file
from questionbank.forms import (
    AngoffForm,
    CaseAdminForm,
    ImportForm,
    ItemVersionAdminForm,
    OptionInlineFormSet,
    loaded_cm_years,
    program_setup,
)
from questionbank.models import (
    AngoffRating,
    Case,
    Domain,
    ItemStatus,
    ItemVersion,
    Option,
    StatusChange,
)
from questionbank.validation import MAX_OPTIONS, MIN_OPTIONS
from tenancy.admin_scoping import ProgramScopedAdmin
from tenancy.forms import chooses_program
from tenancy.models import ProgramStaff
from tenancy.scoping import AUTHORS_PROGRAM, is_operator, may_change, owner_for, program_ids


def _ratings_visible_to(queryset, user):
    """Angoff ratings a user may read by name: all on their programs' items; on shared
    items, those of their programs' staff (the panel's other judges are the operator's)."""
    if is_operator(user):
        return queryset
    colleagues = ProgramStaff.objects.filter(program__in=sorted(program_ids(user))).values(
        "user_id"
    )
    return queryset.filter(
        Q(item_version__item__owner_program__isnull=False) | Q(judge__in=colleagues) | Q(judge=user)
    )


def _with_program_choice(form_class, request, obj, *, what: str):
    """The admin form with the program choice for a new row of someone who chooses; the
    field is dropped otherwise (a single program's staff author for it without asking)."""
    user = request.user
    choose = obj is None and chooses_program(user)

    class WithProgram(form_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if choose:
                program_setup(self, user, what=what)
            else:
                self.fields.pop("program", None)

    return WithProgram


def _chosen_program(form):
    """The owner of a new row: the chosen program (None: shared, the operator's choice), or
    the author's one program when there was no choice."""
    if "program" not in form.fields:
        return AUTHORS_PROGRAM
    chosen = form.cleaned_data.get("program")
    return chosen.pk if chosen else None


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    """The exam's domains are shared by every program: the operator's to change."""

    list_display = ["number", "name"]
    ordering = ["number"]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


@admin.register(Case)
class CaseAdmin(ProgramScopedAdmin):
    program_path = "owner_program"
    shared_when_null = True
    form = CaseAdminForm
    list_display = [
        "key",
        "title",
        "owner_program",
        "setting",
        "code_set_year",
        "item_count",
        "updated_at",
    ]
    list_filter = ["setting", "code_set_year", ("owner_program", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["key", "title", "sections"]
    readonly_fields = ["case_items", "ms_drg"]
    fieldsets = [
        (None, {"fields": ["key", "title", "setting", "code_set_year"]}),
        ("Health-record documentation", {"fields": ["documentation"]}),
        (
            "Correct coding (inpatient, for the MS-DRG)",
            {"fields": ["coding", "ms_drg"]},
        ),
        ("Items on this case", {"fields": ["case_items"]}),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None and chooses_program(request.user):
            (title, options), *rest = fieldsets
            fieldsets = [(title, {**options, "fields": ["program", *options["fields"]]}), *rest]
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return _with_program_choice(form, request, obj, what="the case")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_items=Count("item_versions__item", distinct=True))
        )

    @admin.display(description="items", ordering="_items")
    def item_count(self, obj):
        return obj._items

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._viewer = request.user  # case_items lists only the items they may see
        return obj

    @admin.display(description="Items")
    def case_items(self, obj):
        if not obj.pk:
            return "Save the case first, then add items to it."
        versions = (
            ItemVersion.objects.visible_to(getattr(obj, "_viewer", None))
            .latest()
            .filter(case=obj)
            .select_related("item", "domain")
        )
        add_url = reverse("admin:questionbank_itemversion_add") + f"?case={obj.pk}"
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> · domain {} · {} — {}</li>',
            (
                (
                    reverse("admin:questionbank_itemversion_change", args=[v.pk]),
                    str(v),
                    v.domain.number,
                    v.get_status_display(),
                    v.stem[:90],
                )
                for v in versions
            ),
        )
        empty = "" if versions else mark_safe("<li>No items yet.</li>")
        return format_html(
            '<ul>{}{}</ul><a class="addlink" href="{}">Add an item to this case</a>',
            rows,
            empty,
            add_url,
        )

    @admin.display(description="MS-DRG")
    def ms_drg(self, obj):
        if not obj.pk or obj.setting != "inpatient":
            return "Inpatient cases with a principal diagnosis in their coding show their MS-DRG."
        # Grouping imports msdrg on first use; it is cached per coding afterwards.
        html = render_to_string("codebook/_case_drg.html", {"drg": case_drg(obj)})
        if not html.strip():
            return "No MS-DRG: add a principal diagnosis."
        assumed = (obj.coding or {}).get("assumes_query_answer")
        if assumed:
            html += format_html("<p><strong>Assumes the query answer:</strong> {}</p>", assumed)
        return mark_safe(html)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
            # The chosen program (staff of several, the operator: None is shared), or the
            # author's one program.
            obj.owner_program_id = owner_for(_chosen_program(form), request.user)
            if not may_change(request.user, obj.owner_program_id):
                raise PermissionDenied  # not reachable through the form's choices
        super().save_model(request, obj, form, change)


class OptionInline(admin.TabularInline):
    model = Option
    formset = OptionInlineFormSet
    fields = ["text", "is_key"]
    ordering = ["position"]
    min_num = MIN_OPTIONS
    max_num = MAX_OPTIONS
    validate_min = False  # OptionInlineFormSet.clean reports too few options with the rule
    validate_max = True

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None else 0


class AngoffRatingInline(admin.TabularInline):
    model = AngoffRating
    fields = ["judge_name", "rating", "rated_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Angoff ratings (add yours with 'Rate this item')"

    judge_name = person_field("judge")

    def get_queryset(self, request):
        return _ratings_visible_to(super().get_queryset(request), request.user)

    def has_add_permission(self, request, obj=None):
        return False


class StatusChangeInline(admin.TabularInline):
    model = StatusChange
    fields = ["at", "from_status", "to_status", "by_name", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "Workflow history"

    by_name = person_field("by")

    def has_add_permission(self, request, obj=None):
        return False


class LatestVersionFilter(admin.SimpleListFilter):
    title = "version"
    parameter_name = "versions"

    def lookups(self, request, model_admin):
        return [("all", "All versions")]

    def choices(self, changelist):
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Latest only",
        }
        yield {
            "selected": self.value() == "all",
            "query_string": changelist.get_query_string({self.parameter_name: "all"}),
            "display": "All versions",
        }

    def queryset(self, request, queryset):
        return queryset if self.value() == "all" else queryset.latest()


def _transition_action(to_status: str, label: str):
    def action(modeladmin, request, queryset):
        done, refused = 0, []
        for version in queryset.select_related("item"):
            try:
                services.item_version_transition(
                    version=version, to_status=to_status, by=request.user
                )
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                reason = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                refused.append(f"{version}: {reason}")
        if done:
            modeladmin.message_user(request, f"{label}: {done} item(s).", messages.SUCCESS)
        for message in refused:
            modeladmin.message_user(request, f"Not changed — {message}", messages.ERROR)

    action.__name__ = f"make_{to_status}"
    return admin.action(description=label)(action)


@admin.register(ItemVersion)
class ItemVersionAdmin(ProgramScopedAdmin):
    program_path = "item__owner_program"
    shared_when_null = True
    form = ItemVersionAdminForm
    inlines = [OptionInline, AngoffRatingInline, StatusChangeInline]
    list_display = [
        "item_key",
        "number",
        "domain_number",
        "kind",
        "status",
        "case",
        "author",
        "locked",
        "mean_angoff",
        "updated_at",
    ]
    list_display_links = ["item_key"]
    list_filter = [
        LatestVersionFilter,
        "domain",
        "status",
        "kind",
        ("case", admin.RelatedOnlyFieldListFilter),
        ("author", admin.RelatedOnlyFieldListFilter),
        ("item__owner_program", admin.RelatedOnlyFieldListFilter),
        "code_set_year",
    ]
    search_fields = ["item__key", "stem", "rationale", "options__text"]
    list_select_related = ["item", "domain", "case", "author"]
    list_per_page = 50
    readonly_fields = ["status", "version_info", "links"]
    actions = [
        _transition_action(ItemStatus.IN_REVIEW, "Send to review"),
        _transition_action(ItemStatus.APPROVED, "Approve"),
        _transition_action(ItemStatus.DRAFT, "Return to draft"),
        _transition_action(ItemStatus.OPERATIONAL, "Make operational"),
        _transition_action(ItemStatus.PRETEST, "Make pretest"),
        _transition_action(ItemStatus.RETIRED, "Retire"),
        qti_admin.export_selected_qti,
    ]
    change_list_template = "admin/questionbank/itemversion/change_list.html"
    # Apps above the bank add to this page from their ready() without the bank knowing
    # them (item analysis adds its statistics): functions that annotate the list's
    # queryset, and (fieldset title, read-only field) sections of the change page.
    queryset_extensions: tuple = ()
    detail_sections: tuple[tuple[str, str], ...] = ()

    def get_fieldsets(self, request, obj=None):
        main = [
            "item_key",
            "domain",
            "case",
            "kind",
            "choose",
            "partial_credit",
            "stem",
            "enemies",
        ]
        info = ["status", "version_info", "links"] if obj else []
        if obj is None and chooses_program(request.user):
            info = ["program"]
        fieldsets = [
            (None, {"fields": info + main}),
            ("Answer explanation", {"fields": ["rationale", "references", "code_set_year"]}),
        ]
        if obj:
            fieldsets += [(title, {"fields": [name]}) for title, name in self.detail_sections]
        return fieldsets

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return _with_program_choice(form, request, obj, what="the item")

    def get_queryset(self, request):
        queryset = super().get_queryset(request).annotate(_angoff=Avg("angoff_ratings__rating"))
        for extend in self.queryset_extensions:
            queryset = extend(queryset)
        return queryset

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        # The newest loaded code set's year, which the item's codes can be checked against;
        # without any loaded, the current fiscal year (October to September).
        loaded = loaded_cm_years()
        now = timezone.now()
        initial.setdefault(
            "code_set_year", loaded[0] if loaded else now.year + (1 if now.month >= 10 else 0)
        )
        return initial

    @admin.display(description="item", ordering="item__key")
    def item_key(self, obj):
        return obj.item.key

    @admin.display(description="domain", ordering="domain__number")
    def domain_number(self, obj):
        return obj.domain.number

    @admin.display(description="mean Angoff", ordering="_angoff")
    def mean_angoff(self, obj):
        return "—" if obj._angoff is None else f"{obj._angoff:.2f}"

    @admin.display(description="Version")
    def version_info(self, obj):
        versions = obj.item.versions.order_by("number")
        parts = format_html_join(
            " · ",
            '<a href="{}">{}v{} ({})</a>',
            (
                (
                    reverse("admin:questionbank_itemversion_change", args=[v.pk]),
                    "▶ " if v.pk == obj.pk else "",
                    v.number,
                    v.get_status_display(),
                )
                for v in versions
            ),
        )
        note = ""
        if obj.locked:
            note = "Delivered on a form: saving a change creates the next version."
        elif obj.status not in services.EDITABLE_IN_PLACE:
            note = "Reviewed: saving a change creates a new draft version for review."
        return format_html("{}<br><em>{}</em>", parts, note)

    @admin.display(description="Tools")
    def links(self, obj):
        return format_html(
            '<a class="button" href="{}">Preview as candidate</a> '
            '<a class="button" href="{}">Rate this item (Angoff)</a>',
            reverse("admin:questionbank_itemversion_preview", args=[obj.pk]),
            reverse("admin:questionbank_itemversion_angoff", args=[obj.pk]),
        )

    # Saving goes through the services so that versioning and validation are the same
    # for the admin, the importer and any other caller.
    def save_model(self, request, obj, form, change):
        pass

    def save_related(self, request, form, formsets, change):
        option_formset = next(f for f in formsets if isinstance(f, OptionInlineFormSet))
        options = option_formset.option_data()
        content = {field: form.cleaned_data[field] for field in services.CONTENT_FIELDS}
        if change:
            original = ItemVersion.objects.get(pk=form.instance.pk)
            version = services.item_revise(
                version=original, by=request.user, options=options, **content
            )
            if version.pk != original.pk:
                self.message_user(
                    request,
                    f"{original} was not edited; your change is saved as version {version.number} "
                    "(draft), which needs review before it is used.",
                    messages.WARNING,
                )
        else:
            version = services.item_create(
                key=form.cleaned_data["item_key"],
                options=options,
                author=request.user,
                owner_program_id=_chosen_program(form),
                **content,
            )
        services.item_enemies_set(
            item=version.item,
            enemies=form.cleaned_data["enemies"],
            visible=form.fields["enemies"].queryset,
        )
        form.instance.pk = version.pk
        form.instance.item = version.item
        form.instance.number = version.number
        for formset in formsets:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def get_urls(self):
        def view(func, route, name):
            return path(
                route, self.admin_site.admin_view(func), name=f"questionbank_itemversion_{name}"
            )

        custom = [
            view(self.import_view, "import/", "import"),
            view(self.export_view, "export/", "export"),
            view(self.import_qti_view, "import-qti/", "import_qti"),
            view(self.export_qti_view, "export-qti/", "export_qti"),
            view(self.preview_view, "<int:pk>/preview/", "preview"),
            view(self.angoff_view, "<int:pk>/angoff/", "angoff"),
        ]
        return custom + super().get_urls()

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def import_qti_view(self, request):
        return qti_admin.import_view(self, request)

    def export_qti_view(self, request):
        return qti_admin.export_view(self, request)

    def preview_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = get_object_or_404(
            self.get_queryset(request).select_related("item", "case", "domain"), pk=pk
        )
        context = self._context(
            request,
            title=f"Preview of {version}",
            version=version,
            options=list(version.options.order_by("position")),
            case=version.case,
        )
        return TemplateResponse(request, "admin/questionbank/itemversion/preview.html", context)

    def angoff_view(self, request, pk):
        if not request.user.has_perm("questionbank.add_angoffrating"):
            raise PermissionDenied
        version = get_object_or_404(self.get_queryset(request).select_related("item"), pk=pk)
        mine = AngoffRating.objects.filter(item_version=version, judge=request.user).first()
        form = AngoffForm(request.POST or None, initial={"rating": mine.rating if mine else None})
        if request.method == "POST" and form.is_valid():
            try:
                services.angoff_rating_set(
                    version=version, judge=request.user, rating=form.cleaned_data["rating"]
                )
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(
                    request, f"Your Angoff rating of {version} is saved.", messages.SUCCESS
                )
                return redirect("admin:questionbank_itemversion_change", pk)
        context = self._context(
            request,
            title=f"Angoff rating of {version}",
            version=version,
            options=list(version.options.order_by("position")),
            form=form,
            ratings=_ratings_visible_to(
                version.angoff_ratings.select_related("judge"), request.user
            ),
        )
        return TemplateResponse(request, "admin/questionbank/itemversion/angoff.html", context)

    def import_view(self, request):
        if not request.user.has_perm("questionbank.add_itemversion"):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = bank_import_file(
                    name=upload.name,
                    content=upload.read(),
                    by=request.user,
                    program=form.cleaned_data["program"],
                )
            except BankImportError as exc:
                form.add_error("file", f"Nothing was imported. {exc}")
            except PermissionDenied as exc:
                form.add_error("program", str(exc))
            else:
                self.message_user(
                    request, f"Imported {upload.name}: {result.summary()}.", messages.SUCCESS
                )
                for message in result.messages:
                    self.message_user(request, message, messages.WARNING)
                return redirect("admin:questionbank_itemversion_changelist")
        context = self._context(request, title="Import items", form=form)
        return TemplateResponse(
            request,
            "admin/questionbank/itemversion/import.html",
            context,
            status=400 if form.errors else 200,
        )

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        data = bank_export(include_retired=request.GET.get("retired") == "1", user=request.user)
        response = HttpResponse(
            json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="ccs-bank-{stamp}.json"'
        return response


@admin.register(AngoffRating)
class AngoffRatingAdmin(ProgramScopedAdmin):
    program_path = "item_version__item__owner_program"
    shared_when_null = True

    def get_queryset(self, request):
        return _ratings_visible_to(super().get_queryset(request), request.user)

    list_display = ["item_version", "judge_name", "rating", "rated_at"]
    list_filter = [("judge", admin.RelatedOnlyFieldListFilter), "item_version__domain"]
    search_fields = ["item_version__item__key"]
    list_select_related = ["item_version__item", "judge"]
    # Read-only, and the judge by name: a link would lead to the user admin (403).
    fields = ["item_version", "judge_name", "rating", "rated_at"]
    readonly_fields = fields

    judge_name = person_field("judge")

    # Read-only: a rating is written by its judge alone, with "Rate this item" (a form
    # here would let anyone rate in someone else's name and so move a cut score).
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
