from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Programs"

    def ready(self) -> None:
        # Every audited change records the program it belongs to, so that a program's
        # staff can read their own trail (tenancy.audit).
        from tenancy import audit  # noqa: F401
