from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"

    def ready(self) -> None:
        # Item analysis lives in stats_* modules beside the scoring core: Celery's
        # autodiscovery finds only scoring.tasks and the admin's only scoring.admin.
        from scoring import stats_admin, stats_tasks  # noqa: F401
