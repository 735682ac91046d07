from django.urls import path

from cohorts import views

app_name = "cohorts"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
