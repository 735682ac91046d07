from django.urls import path

from cohorts import cut_views, staff_views, views

app_name = "cohorts"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export.csv", views.dashboard_export, name="dashboard_export"),
    path("audit/", views.audit_trail, name="audit"),
    path("new/", views.cohort_create, name="create"),
    path("cut-changes/", cut_views.cut_proposals, name="cut_proposals"),
    path("cut-changes/<int:pk>/", cut_views.cut_proposal, name="cut_proposal"),
    path("programs/<int:pk>/staff/", staff_views.program_staff, name="program_staff"),
    path("programs/<int:pk>/staff/add/", staff_views.program_staff_add, name="program_staff_add"),
    path(
        "programs/<int:pk>/staff/<int:role_id>/remove/",
        staff_views.program_staff_remove,
        name="program_staff_remove",
    ),
    path("join/", views.join, name="join"),
    path("welcome/<uidb64>/<token>/", views.SetPasswordView.as_view(), name="set_password"),
    path("welcome/done/", views.SetPasswordDoneView.as_view(), name="set_password_done"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/export/<slug:table>.csv", views.detail_export, name="detail_export"),
    path("<int:pk>/candidates/<int:user_id>/", views.candidate, name="candidate"),
    path(
        "<int:pk>/candidates/<int:user_id>/export.csv",
        views.candidate_export,
        name="candidate_export",
    ),
    path(
        "<int:pk>/candidates/<int:user_id>/attempts/<int:attempt_id>/report.pdf",
        views.candidate_report_pdf,
        name="candidate_report_pdf",
    ),
    path("<int:pk>/members/", views.members, name="members"),
    path("<int:pk>/members/add/", views.member_add, name="member_add"),
    path("<int:pk>/members/roster/", views.roster_upload, name="roster_upload"),
    path("<int:pk>/members/<int:user_id>/remove/", views.member_remove, name="member_remove"),
    path("<int:pk>/members/<int:user_id>/invite/", views.member_invite, name="member_invite"),
    path(
        "<int:pk>/members/<int:user_id>/accommodation/",
        views.accommodation,
        name="accommodation",
    ),
    path("<int:pk>/settings/", views.cohort_settings, name="settings"),
    path("<int:pk>/enrolment/", views.enrolment, name="enrolment"),
    path("<int:pk>/assignments/add/", views.assignment_add, name="assignment_add"),
    path(
        "<int:pk>/assignments/<int:assignment_id>/",
        views.assignment_edit,
        name="assignment_edit",
    ),
    path(
        "<int:pk>/assignments/<int:assignment_id>/delete/",
        views.assignment_delete,
        name="assignment_delete",
    ),
]
