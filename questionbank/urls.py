from django.urls import path

from questionbank import views

app_name = "questionbank"

urlpatterns = [
    path("cases/<slug:key>/drg/", views.case_drg_page, name="case_drg"),
]
