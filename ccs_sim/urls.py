from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from ccs_sim import views
from ccs_sim.security import ResetPasswordForm

admin.site.site_header = "CCS Exam Simulator — authoring"
admin.site.site_title = "CCS Simulator admin"
admin.site.index_title = "Question bank and exams"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("profile/", views.profile, name="profile"),
    path("profile/time-zone/", views.time_zone_report, name="time_zone_report"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/change/",
        auth_views.PasswordChangeView.as_view(success_url="/password/change/done/"),
        name="password_change",
    ),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    # "Forgot password": Django's views; every answer is the same whether or not an
    # account has the address.
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            form_class=ResetPasswordForm,
            email_template_name="registration/password_reset_email.txt",
            subject_template_name="registration/password_reset_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # The admin's login page shows a "Forgotten your password?" link when this name exists.
    path(
        "admin/password_reset/",
        RedirectView.as_view(pattern_name="password_reset"),
        name="admin_password_reset",
    ),
    path("exams/", include("exams.urls")),
    path("scores/", include("scoring.urls")),
    path("cohorts/", include("cohorts.urls")),
    path("codebook/", include("codebook.urls")),
    path("bank/", include("questionbank.urls")),
    path("lti/", include("lti.urls")),
    path("admin/", admin.site.urls),
]
