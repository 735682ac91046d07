from django.urls import path

from scoring import views

app_name = "scoring"

urlpatterns = [
    path("attempts/<int:pk>/", views.report, name="report"),
    path("attempts/<int:pk>/report.pdf", views.report_pdf, name="report_pdf"),
    path("history/", views.history, name="history"),
]
