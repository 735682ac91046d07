"""The product's routes plus the benchmark's baseline (benchmarks.settings uses this)."""

from django.urls import path

from benchmarks import views
from ccs_sim.urls import urlpatterns as product_urlpatterns

urlpatterns = [
    path("exams/bench/baseline/<int:pk>/<int:position>/", views.bench_baseline),
    *product_urlpatterns,
]
