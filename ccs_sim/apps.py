from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate

from common.roles import sync_roles_after_migrate


class CcsSimConfig(AppConfig):
    name = "ccs_sim"
    verbose_name = "CCS simulator"

    def ready(self) -> None:
        # Later migrations add models and so permissions; re-syncing after every migrate
        # keeps the role groups complete without a data migration per new permission.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="ccs_sim.sync_roles")
        # The embedded default has no beat: the serving process runs the schedule.
        from ccs_sim import scheduler

        scheduler.start_if_wanted()
        # A sign-in clears that account's failed attempts (ccs_sim.security).
        from ccs_sim.security import reset_failures_on_login

        user_logged_in.connect(reset_failures_on_login, dispatch_uid="ccs_sim.reset_failures")
        # The person's time zone goes into the session with the sign-in's own session
        # write, so no later request (an autosave, a heartbeat) reads or writes it.
        from ccs_sim.time_zones import remember_zone_on_login

        user_logged_in.connect(remember_zone_on_login, dispatch_uid="ccs_sim.time_zone")
