from django.urls import path

from scoring import views

app_name = "scoring"

urlpatterns = [
    path("attempts/<int:pk>/", views.report, name="report"),
    path("history/", views.history, name="history"),
]
