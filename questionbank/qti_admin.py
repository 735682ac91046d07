"""The bank admin's QTI pages: export selected items (an action), export the bank, import a
package. Wired into `ItemVersionAdmin` in admin.py; the exchange itself is in qti.py."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils import timezone

from questionbank import qti
from questionbank.exchange import BankImportError
from tenancy.forms import program_choice
from tenancy.models import Program


class QtiImportForm(forms.Form):
    file = forms.FileField(help_text="An IMS QTI 3.0 content package (.zip).")
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(),
        required=False,
        help_text="The program the items belong to: only its staff see them.",
    )
    create_missing_judges = forms.BooleanField(
        required=False,
        help_text="Create sign-in-less accounts for Angoff judges named in the package.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # Staff of several programs choose, as on the JSON import page; staff of one never
        # see the choice; the operator may leave the items shared.
        program_choice(self.fields["program"], user, what="the items", shared_label="Shared")
        if user.is_superuser:
            self.fields["program"].help_text += " Leave empty for shared content."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".zip"):
            raise ValidationError("Upload a QTI content package: a .zip file.")
        limit = qti.MAX_PACKAGE_BYTES
        if upload.size > limit:
            raise ValidationError(f"The file is larger than {limit // (1024 * 1024)} MB.")
        return upload


def _zip_response(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/zip")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.zip"'
    return response


@admin.action(description="Export selected items as a QTI 3.0 package", permissions=["view"])
def export_selected_qti(modeladmin, request, queryset):
    # A selected row may be an earlier version; the package carries each item's latest, as
    # the bank's JSON export does, so that importing it reproduces the bank.
    keys = sorted(set(queryset.values_list("item__key", flat=True)))
    return _zip_response(qti.qti_export(item_keys=keys), "ccs-items-qti")


def export_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    content = qti.qti_export(include_retired=request.GET.get("retired") == "1")
    return _zip_response(content, "ccs-bank-qti")


def import_view(model_admin, request):
    if not request.user.has_perm("questionbank.add_itemversion"):
        raise PermissionDenied
    form = QtiImportForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = qti.qti_import(
                content=upload.read(),
                by=request.user,
                program=form.cleaned_data["program"],
                create_missing_judges=form.cleaned_data["create_missing_judges"],
            )
        except BankImportError as exc:
            form.add_error("file", f"Nothing was imported. {exc}")
        except PermissionDenied as exc:
            form.add_error("file", f"Nothing was imported. {exc}")
        else:
            model_admin.message_user(
                request, f"Imported {upload.name}: {result.summary()}.", messages.SUCCESS
            )
            return redirect("admin:questionbank_itemversion_changelist")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": "Import a QTI package",
        "form": form,
    }
    return TemplateResponse(request, "admin/questionbank/itemversion/import_qti.html", context)
