"""Instructors' view of item analysis: runs and their progress, item and form statistics,
the form report, pretest promotions; and the pieces the item list and item page use.

Imported by scoring.apps (Django's admin autodiscovery imports only scoring.admin) and by
questionbank.admin for the statistics columns, the flag filter, the item page section and
the "Promote pretest item" action. Everything computed is read-only here; the writes go
through itemanalysis.services.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from common.admin_display import person_field
from exams.models import ExamForm
from itemanalysis import review, run_requests, selectors, services, splits
from itemanalysis.models import (
    AnalysisKind,
    AnalysisRun,
    DifRun,
    FormStatistic,
    ItemReviewFlag,
    ItemStatistic,
    PretestPromotion,
)
from itemanalysis.promotion import pretest_promote, pretest_promotion_problems
from psychometrics import flags
from questionbank.models import ItemStatus
from tenancy.admin_scoping import ProgramScopedAdmin


def _fmt(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _readonly(model_admin_class):
    """No adding, editing or deleting: these rows are written by the analysis only."""
    model_admin_class.has_add_permission = lambda self, request, obj=None: False
    model_admin_class.has_change_permission = lambda self, request, obj=None: False
    model_admin_class.has_delete_permission = lambda self, request, obj=None: False
    return model_admin_class


# --- Runs -------------------------------------------------------------------------------------
class RunRequestForm(forms.Form):
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form"].queryset = ExamForm.objects.exams().visible_to(user).order_by("name")
        if not user.is_superuser:
            # The bank's calibrations are the operator's (run_requests.BANK_CALIBRATIONS).
            self.fields["kind"].choices = [
                (value, label)
                for value, label in AnalysisKind.choices
                if value not in run_requests.BANK_CALIBRATIONS
            ]
            self.fields["kind"].help_text = (
                "The Rasch and pretest calibrations change every program's scale: the platform "
                "operator runs them, and the nightly schedule does."
            )

    kind = forms.ChoiceField(choices=AnalysisKind.choices, label="Analysis")
    form = forms.ModelChoiceField(
        queryset=ExamForm.objects.exams().order_by("name"),
        required=False,
        label="Form",
        help_text="Classical statistics only: leave empty to analyse every form with exam "
        "attempts. The calibrations always use every exam attempt.",
    )


@_readonly
@admin.register(AnalysisRun)
class AnalysisRunAdmin(ProgramScopedAdmin):
    # Runs over a shared form or the whole bank report aggregates only: every program's
    # staff may read them; a program's own form's runs are its staff's.
    program_path = "form__owner_program"
    shared_when_null = True

    list_display = [
        "id",
        "kind",
        "form",
        "status",
        "progress_bar",
        "short_message",
        "requested_by",
        "created_at",
        "finished_at",
    ]
    list_display_links = ["id", "kind"]
    list_filter = ["kind", "status"]
    list_select_related = ["form", "requested_by"]
    change_list_template = "admin/itemanalysis/analysisrun/change_list.html"

    @admin.display(description="progress")
    def progress_bar(self, obj):
        return format_html(
            '<progress max="100" value="{}" aria-label="{}% done">{}%</progress>',
            obj.progress,
            obj.progress,
            obj.progress,
        )

    @admin.display(description="message")
    def short_message(self, obj):
        return obj.message if len(obj.message) <= 90 else obj.message[:88] + "…"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("request/", view(self.request_view), name="itemanalysis_analysisrun_request"),
            path(
                "<int:pk>/progress/",
                view(self.progress_view),
                name="itemanalysis_analysisrun_progress",
            ),
        ] + super().get_urls()

    def _context(self, request, **extra):
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    def request_view(self, request):
        if not request.user.has_perm("itemanalysis.add_analysisrun"):
            raise PermissionDenied
        form = RunRequestForm(request.POST or None, initial=request.GET.dict(), user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                run = run_requests.analysis_request(
                    kind=form.cleaned_data["kind"],
                    form=form.cleaned_data["form"],
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("admin:itemanalysis_analysisrun_change", run.pk)
        return TemplateResponse(
            request,
            "admin/itemanalysis/analysisrun/request.html",
            self._context(request, title="Run item analysis", form=form),
        )

    def _run_context(self, run: AnalysisRun) -> dict:
        form_statistics = []
        if run.kind == AnalysisKind.CLASSICAL:
            form_statistics = list(run.form_statistics.select_related("form"))
        return {
            "run": run,
            "form_statistics": form_statistics,
            "items_url": reverse("admin:itemanalysis_itemstatistic_changelist")
            + f"?run__id__exact={run.pk}",
            "progress_url": reverse("admin:itemanalysis_analysisrun_progress", args=[run.pk]),
        }

    def progress_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        run = get_object_or_404(
            self.get_queryset(request).select_related("form", "requested_by"), pk=pk
        )
        return TemplateResponse(
            request, "admin/itemanalysis/analysisrun/_progress.html", self._run_context(run)
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not str(object_id).isdigit():  # the admin's URL takes any text here
            raise Http404("No such analysis run.")
        run = get_object_or_404(
            self.get_queryset(request).select_related("form", "requested_by"), pk=object_id
        )
        context = self._context(request, title=str(run), **self._run_context(run))
        return TemplateResponse(request, "admin/itemanalysis/analysisrun/progress.html", context)


# --- Item statistics --------------------------------------------------------------------------
class StatisticFlagFilter(admin.SimpleListFilter):
    """Filter by flags: any, none, or one flag. `prefix` leads the names of the flag_count
    and flag_codes fields (or annotations) filtered on."""

    title = "flag"
    parameter_name = "flag"
    prefix = ""
    extra_lookups: tuple[tuple[str, str], ...] = ()  # shown between "No flag" and the flags

    def lookups(self, request, model_admin):
        return [
            ("any", "Any flag"),
            ("none", "No flag"),
            *self.extra_lookups,
            *flags.LABELS.items(),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "any":
            return queryset.filter(**{f"{self.prefix}flag_count__gt": 0})
        if value == "none":
            return queryset.filter(**{f"{self.prefix}flag_count": 0})
        if value in flags.LABELS:
            return queryset.filter(**{f"{self.prefix}flag_codes__contains": f",{value},"})
        return queryset


@_readonly
@admin.register(ItemStatistic)
class ItemStatisticAdmin(ProgramScopedAdmin):
    # Statistics of shared items pool every program's responses: aggregates, no names.
    program_path = "item_version__item__owner_program"
    shared_when_null = True

    list_display = [
        "item_version",
        "kind",
        "form",
        "n_responses",
        "p_display",
        "item_rest_display",
        "difficulty_display",
        "infit_display",
        "outfit_display",
        "flag_count",
        "computed_at",
    ]
    list_filter = [
        StatisticFlagFilter,
        "kind",
        "is_pretest",
        ("form", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["item_version__item__key"]
    list_select_related = ["item_version__item", "form"]
    exclude = ["flag_codes"]

    @admin.display(description="p", ordering="p")
    def p_display(self, obj):
        return _fmt(obj.p)

    @admin.display(description="item-rest", ordering="item_rest")
    def item_rest_display(self, obj):
        return _fmt(obj.item_rest)

    @admin.display(description="b", ordering="difficulty")
    def difficulty_display(self, obj):
        return _fmt(obj.difficulty)

    @admin.display(description="infit", ordering="infit")
    def infit_display(self, obj):
        return _fmt(obj.infit)

    @admin.display(description="outfit", ordering="outfit")
    def outfit_display(self, obj):
        return _fmt(obj.outfit)


# --- Forms ------------------------------------------------------------------------------------
class DifForm(forms.Form):
    """What the DIF page compares: a form, a split, and (for splits that need them) the
    reference and focal groups among those the user may see."""

    form = forms.ModelChoiceField(queryset=ExamForm.objects.none(), label="Form")
    split = forms.ChoiceField(label="Compare")
    reference = forms.ChoiceField(label="Reference group", required=False)
    focal = forms.ChoiceField(label="Focal group", required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["form"].queryset = selectors.analysed_forms().order_by("name")
        self.fields["split"].choices = [(p.key, p.label) for p in splits.providers()]
        key = self.data.get("split") or self.fields["split"].choices[0][0]
        self.provider = splits.provider(key)
        group_choices = self.provider.choices(user=user) if self.provider else []
        for name in ("reference", "focal"):
            self.fields[name].choices = [("", "—"), *group_choices]

    def clean(self):
        data = super().clean()
        if self.provider is not None and self.provider.needs_groups:
            reference, focal = data.get("reference"), data.get("focal")
            if not reference or not focal or reference == focal:
                raise ValidationError("Choose two different groups to compare.")
        return data


@_readonly
@admin.register(FormStatistic)
class FormStatisticAdmin(ProgramScopedAdmin):
    program_path = "form__owner_program"
    shared_when_null = True

    list_display = [
        "form",
        "computed_at",
        "n_attempts",
        "n_items",
        "mean_display",
        "sd_display",
        "kr20_display",
        "sem_display",
        "report_link",
    ]
    list_select_related = ["form"]
    list_filter = [("form", admin.RelatedOnlyFieldListFilter)]
    change_list_template = "admin/itemanalysis/formstatistic/change_list.html"

    @admin.display(description="mean", ordering="mean")
    def mean_display(self, obj):
        return _fmt(obj.mean)

    @admin.display(description="sd", ordering="sd")
    def sd_display(self, obj):
        return _fmt(obj.sd)

    @admin.display(description="KR-20", ordering="kr20")
    def kr20_display(self, obj):
        return _fmt(obj.kr20, 3)

    @admin.display(description="SEM", ordering="sem")
    def sem_display(self, obj):
        return _fmt(obj.sem)

    @admin.display(description="report")
    def report_link(self, obj):
        return format_html(
            '<a href="{}">Form report</a>',
            reverse("admin:itemanalysis_formstatistic_report", args=[obj.form_id]),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "form/<int:form_id>/report/",
                view(self.report_view),
                name="itemanalysis_formstatistic_report",
            ),
            path("dif/", view(self.dif_view), name="itemanalysis_formstatistic_dif"),
        ] + super().get_urls()

    def dif_view(self, request):
        """Mantel-Haenszel DIF of a form's items between two groups; instructors only (the
        item-level comparison of groups is for the people who maintain the bank). A POST
        records the run and flags its C items for review on the items themselves."""
        if not request.user.has_perm("itemanalysis.add_analysisrun"):
            raise PermissionDenied
        posted = request.method == "POST"
        source = request.POST if posted else (request.GET or None)
        form = DifForm(source, user=request.user)
        report, flag_states = None, {}
        if source and form.is_valid():
            data = form.cleaned_data
            split = form.provider.split(
                user=request.user, reference=data["reference"], focal=data["focal"]
            )
            if split is None:
                raise Http404("No such group.")
            if posted:
                self._dif_record(request, data, split)
                query = urlencode(
                    {k: request.POST.get(k, "") for k in ("form", "split", "reference", "focal")}
                )
                return redirect(f"{reverse('admin:itemanalysis_formstatistic_dif')}?{query}")
            report = selectors.form_dif(form=data["form"], split=split)
            flag_states = review.comparison_flags(
                user=request.user,
                split_key=data["split"],
                comparison=review.comparison_label(report.reference, report.focal),
                version_ids=[r.version_id for r in report.flagged],
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Differential item functioning",
            "form": form,
            "needs_groups": form.provider is not None and form.provider.needs_groups,
            "report": report,
            "rows": [(r, flag_states.get(r.version_id)) for r in report.rows] if report else [],
            "can_record": bool(report and report.flagged),
        }
        return TemplateResponse(request, "admin/itemanalysis/formstatistic/dif.html", context)

    def _dif_record(self, request, data, split) -> None:
        try:
            run = review.dif_run_record(
                form=data["form"],
                split_key=data["split"],
                split=split,
                reference_key=data["reference"] or "",
                focal_key=data["focal"] or "",
                by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return
        summary = run.summary
        messages.success(
            request,
            f"DIF run #{run.pk} recorded: {len(summary['flagged'])} item(s) newly flagged for "
            f"review, {len(summary['updated'])} open flag(s) updated, "
            f"{len(summary['cleared_before'])} already reviewed on this comparison.",
        )

    def report_view(self, request, form_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = get_object_or_404(ExamForm.objects.exams().visible_to(request.user), pk=form_id)
        report = selectors.form_report(form=form)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Item analysis of {form}",
            "report": report,
            "svg": mark_safe(report.svg),  # built from numbers and escaped text
            "precision_svg": mark_safe(report.precision.svg),  # the same
            "history": FormStatistic.objects.filter(form=form).order_by("-computed_at", "-id"),
            "can_run": request.user.has_perm("itemanalysis.add_analysisrun"),
        }
        return TemplateResponse(request, "admin/itemanalysis/formstatistic/report.html", context)


@_readonly
@admin.register(PretestPromotion)
class PretestPromotionAdmin(ProgramScopedAdmin):
    program_path = "item_version__item__owner_program"
    shared_when_null = True

    list_display = ["item_version", "by", "at", "difficulty", "se", "n_responses", "note"]
    list_select_related = ["item_version__item", "by"]
    search_fields = ["item_version__item__key", "note"]
    fields = [
        "item_version",
        "by_name",
        "at",
        "difficulty",
        "se",
        "n_responses",
        "statistics",
        "note",
    ]
    readonly_fields = ["by_name", "at"]
    by_name = person_field("by")


# --- For the item list and item page (questionbank.admin.ItemVersionAdmin) ----------------------
class ItemFlagFilter(StatisticFlagFilter):
    """Filter item versions by the flags of their latest statistics.

    Needs the queryset annotated by selectors.item_versions_with_statistics."""

    title = "statistics flag"
    prefix = "_stat_"
    extra_lookups = (("unanalysed", "No statistics yet"),)

    def queryset(self, request, queryset):
        if self.value() == "unanalysed":
            return queryset.filter(_stat_n__isnull=True)
        return super().queryset(request, queryset)


@admin.display(description="p", ordering="_stat_p")
def stat_p(obj):
    return _fmt(getattr(obj, "_stat_p", None))


@admin.display(description="item-rest", ordering="_stat_item_rest")
def stat_item_rest(obj):
    return _fmt(getattr(obj, "_stat_item_rest", None))


@admin.display(description="b (logits)", ordering="_difficulty")
def stat_difficulty(obj):
    return _fmt(getattr(obj, "_difficulty", None))


@admin.display(description="flags", ordering="_stat_flag_count")
def stat_flags(obj):
    count = getattr(obj, "_stat_flag_count", None)
    if count is None:
        return "—"
    if not count:
        return "0"
    codes = [c for c in (getattr(obj, "_stat_flag_codes", "") or "").split(",") if c]
    return format_html(
        '<span title="{}" class="admin-flag">{}</span>',
        "; ".join(flags.LABELS.get(c, c) for c in codes),
        count,
    )


def item_statistics_section(version, *, user=None) -> str:
    """The item page's statistics: latest figures, flags, distractor table, history."""
    if not version or not version.pk:
        return ""
    history = selectors.item_statistics_history(version=version)
    latest = selectors.latest_of(history)
    calibration = selectors.item_calibration(version=version)
    with_rates = next((s for s in history if s.option_rates_all), None)
    if latest and latest.option_rates_all:
        with_rates = latest
    problems = None
    if version.status == ItemStatus.PRETEST:
        problems = pretest_promotion_problems(
            version=version,
            statistic=selectors.latest_of(history, kind=AnalysisKind.PRETEST),
            calibration=calibration,
        )
    context = {
        "version": version,
        "latest": latest,
        "latest_flags": services.statistic_flags(latest) if latest else [],
        "calibration": calibration,
        "distractors": selectors.distractor_table(version=version, statistic=with_rates),
        "distractor_source": with_rates,
        "history": history,
        "promotion_problems": problems,
        "promotions": list(version.promotions.select_related("by")),
        "rules": services.flag_rules(),
        "run_url": reverse("admin:itemanalysis_analysisrun_request"),
    }
    return mark_safe(render_to_string("admin/itemanalysis/itemstatistics/_section.html", context))


@admin.action(description="Promote pretest item to operational (carries its difficulty)")
def promote_pretest_items(modeladmin, request, queryset):
    done = 0
    for version in queryset.select_related("item"):
        try:
            promotion = pretest_promote(version=version, by=request.user)
        except PermissionDenied as exc:
            modeladmin.message_user(request, f"{version} not promoted: {exc}", messages.ERROR)
        except ValidationError as exc:
            reasons = format_html(
                "<ul>{}</ul>",
                mark_safe("".join(format_html("<li>{}</li>", m) for m in exc.messages)),
            )
            modeladmin.message_user(
                request, format_html("{} not promoted:{}", version, reasons), messages.ERROR
            )
        else:
            done += 1
            modeladmin.message_user(
                request,
                f"{version} is operational, with b = {promotion.difficulty:.3f} on the bank "
                f"scale from {promotion.n_responses} responses.",
                messages.SUCCESS,
            )
    return done


__all__ = [
    "ItemFlagFilter",
    "item_statistics_section",
    "promote_pretest_items",
    "stat_difficulty",
    "stat_flags",
    "stat_item_rest",
    "stat_p",
]


# --- Review flags (a DIF run's C items) -------------------------------------------------------
class ReviewFlagStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Open (awaiting review)"), ("cleared", "Cleared")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(cleared_at__isnull=True)
        if self.value() == "cleared":
            return queryset.filter(cleared_at__isnull=False)
        return queryset


class ClearFlagForm(forms.Form):
    note = forms.CharField(
        label="What did the review conclude?",
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Kept on record with the flag (e.g. the content was checked and kept, or "
        "the item was revised as a new version).",
    )


@admin.register(DifRun)
class DifRunAdmin(ProgramScopedAdmin):
    """Recorded DIF runs, read-only: a program's staff see their program's runs."""

    list_display = ["__str__", "split", "n_reference", "n_focal", "flagged", "created_at"]
    list_select_related = ["form"]
    readonly_fields = ["requested_by_name"]
    exclude = ["requested_by"]
    requested_by_name = person_field("requested_by")

    @admin.display(description="C items")
    def flagged(self, obj):
        return (obj.summary or {}).get("C", 0)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ItemReviewFlag)
class ItemReviewFlagAdmin(ProgramScopedAdmin):
    """Items flagged for review by a DIF run; a reviewer clears each with a note (the
    "Clear" page). Read-only otherwise: flags are raised by runs only."""

    list_display = [
        "item_link",
        "category",
        "delta_display",
        "comparison",
        "run_link",
        "raised_at",
        "state",
        "note",
    ]
    list_filter = [ReviewFlagStateFilter]
    list_select_related = ["item_version__item", "run__form", "cleared_by"]
    search_fields = ["item_version__item__key", "comparison", "note"]
    exclude = ["cleared_by"]
    readonly_fields = ["cleared_by_name", "clear_link"]
    cleared_by_name = person_field("cleared_by")

    @admin.display(description="item", ordering="item_version__item__key")
    def item_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:questionbank_itemversion_change", args=[obj.item_version_id]),
            obj.item_version.item.key,
        )

    @admin.display(description="MH D-DIF", ordering="delta")
    def delta_display(self, obj):
        return _fmt(obj.delta)

    @admin.display(description="raised by")
    def run_link(self, obj):
        return f"DIF run #{obj.run_id} on {obj.run.form}"

    @admin.display(description="state", ordering="cleared_at")
    def state(self, obj):
        if obj.is_open:
            return format_html(
                '<a href="{}">Open — clear after review</a>',
                reverse("admin:itemanalysis_itemreviewflag_clear", args=[obj.pk]),
            )
        return f"Cleared {obj.cleared_at:%Y-%m-%d} by {obj.cleared_by or '—'}"

    @admin.display(description="review")
    def clear_link(self, obj):
        return self.state(obj)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:flag_id>/clear/",
                view(self.clear_view),
                name="itemanalysis_itemreviewflag_clear",
            ),
        ] + super().get_urls()

    def clear_view(self, request, flag_id):
        if not request.user.has_perm("itemanalysis.change_itemreviewflag"):
            raise PermissionDenied
        flag = get_object_or_404(
            ItemReviewFlag.objects.visible_to(request.user).select_related(
                "item_version__item", "run__form", "cleared_by"
            ),
            pk=flag_id,
        )
        form = ClearFlagForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                review.review_flag_clear(
                    flag_id=flag.pk, note=form.cleaned_data["note"], by=request.user
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request, f"The review flag on {flag.item_version.item.key} is cleared."
                )
                return redirect("admin:questionbank_itemversion_change", flag.item_version_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Clear the review flag on {flag.item_version.item.key}",
            "flag": flag,
            "form": form,
        }
        return TemplateResponse(request, "admin/itemanalysis/itemreviewflag/clear.html", context)


def review_flags_section(version, *, user) -> str:
    """The item page's review flags (those the user's programs raised), with a link to
    clear each open one."""
    if not version or not version.pk:
        return ""
    flags_ = list(
        ItemReviewFlag.objects.visible_to(user)
        .filter(item_version=version)
        .select_related("run__form", "cleared_by")
    )
    can_clear = user is not None and user.has_perm("itemanalysis.change_itemreviewflag")
    return mark_safe(
        render_to_string(
            "admin/itemanalysis/itemreviewflag/_section.html",
            {"flags": flags_, "can_clear": can_clear},
        )
    )


class ReviewFlagFilter(admin.SimpleListFilter):
    """Item versions with an open review flag (needs the annotation the bank admin's
    get_queryset adds: `_review_open`)."""

    title = "review flag"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("open", "Flagged for review (DIF C)"), ("none", "No open review flag")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(_review_open__gt=0)
        if self.value() == "none":
            return queryset.filter(_review_open=0)
        return queryset


@admin.display(description="review", ordering="_review_open")
def review_flag_column(obj):
    count = getattr(obj, "_review_open", 0) or 0
    if not count:
        return ""
    return format_html(
        '<strong class="review-flag">DIF C — review</strong>{}',
        f" ({count})" if count > 1 else "",
    )
