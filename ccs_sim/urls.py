from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from ccs_sim import views

admin.site.site_header = "CCS Exam Simulator — authoring"
admin.site.site_title = "CCS Simulator admin"
admin.site.index_title = "Question bank and exams"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
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
    path("exams/", include("exams.urls")),
    path("scores/", include("scoring.urls")),
    path("cohorts/", include("cohorts.urls")),
    path("codebook/", include("codebook.urls")),
    path("bank/", include("questionbank.urls")),
    path("lti/", include("lti.urls")),
    path("admin/", admin.site.urls),
]
