from django.urls import path

from exams import views

app_name = "exams"

urlpatterns = [
    path("", views.home, name="home"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("forms/<int:form_id>/", views.instructions, name="instructions"),
    path("forms/<int:form_id>/start/", views.start, name="start"),
    path("practice/", views.practice, name="practice"),
    path("attempts/<int:pk>/", views.attempt_detail, name="attempt"),
    path("attempts/<int:pk>/items/<int:position>/", views.item, name="item"),
    path("attempts/<int:pk>/items/<int:position>/save/", views.save, name="save"),
    path("attempts/<int:pk>/items/<int:position>/check/", views.check, name="check"),
    path("attempts/<int:pk>/next/", views.adaptive_next, name="adaptive_next"),
    path("attempts/<int:pk>/review/", views.review, name="review"),
    path("attempts/<int:pk>/submit/", views.submit, name="submit"),
    path("attempts/<int:pk>/time-up/", views.time_up, name="time_up"),
    path("attempts/<int:pk>/result/", views.result, name="result"),
    path("attempts/<int:pk>/payload/", views.payload, name="payload"),
    path("attempts/<int:pk>/state/", views.state, name="state"),
]
