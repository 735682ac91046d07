from django.apps import AppConfig


class CohortsConfig(AppConfig):
    name = "cohorts"

    def ready(self) -> None:
        # Delivery (exams, below this app) asks who may sit which form; the answers are
        # this app's, given through the registry exams offers.
        from cohorts.eligibility import CohortEligibility
        from exams import eligibility

        eligibility.register(CohortEligibility())

        # Item analysis's DIF page compares two cohorts through its split registry.
        from cohorts.dif import CohortSplit
        from itemanalysis import splits

        splits.register(CohortSplit())
