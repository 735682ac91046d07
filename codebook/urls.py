from django.urls import path

from codebook import views

app_name = "codebook"

# The panel's routes come first: "panel/search/" would otherwise match <system>/<code>/.
urlpatterns = [
    path("", views.search, name="search"),
    path("panel/", views.panel, name="panel"),
    path("panel/search/", views.panel_search, name="panel_search"),
    path("panel/<str:system>/<str:code>/", views.panel_code, name="panel_code"),
    path("<str:system>/<str:code>/", views.code, name="code"),
]
