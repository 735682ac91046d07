from django.apps import AppConfig


class LtiConfig(AppConfig):
    name = "lti"
    verbose_name = "LTI 1.3"

    def ready(self) -> None:
        from lti import receivers
        from scoring import signals

        signals.attempt_scored.connect(
            receivers.grade_posts_when_scored, dispatch_uid="lti.grade_posts_when_scored"
        )
        signals.attempt_rescored.connect(
            receivers.grade_posts_when_rescored, dispatch_uid="lti.grade_posts_when_rescored"
        )
