from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "scoring"

    def ready(self) -> None:
        from exams import adaptive, retakes, signals
        from scoring import receivers
        from scoring.adaptive import ScoringCalibrations
        from scoring.selectors import RetakeScaleCheck

        # Adaptive practice (exams) reads calibrations through this source.
        adaptive.register(ScoringCalibrations())
        # Retakes on a new form (exams.retakes) ask whether it could be put on the scale.
        retakes.register_scale_check(RetakeScaleCheck())

        signals.attempt_finalised.connect(
            receivers.score_when_finalised, dispatch_uid="scoring.score_when_finalised"
        )
        signals.form_publishing.connect(
            receivers.build_conversion_when_publishing,
            dispatch_uid="scoring.build_conversion_when_publishing",
        )
