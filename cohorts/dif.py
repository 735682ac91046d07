"""The cohort split of item analysis's DIF page (itemanalysis.splits), registered from
CohortsConfig.ready(): item analysis sits below cohorts and cannot ask for members itself.
"""

from __future__ import annotations

from cohorts.models import Cohort, Membership
from itemanalysis.splits import Group, Split


class CohortSplit:
    """Members of one cohort (reference) against members of another (focal); only cohorts
    the user may see (taught or managed; a superuser sees all) can be chosen."""

    key = "cohorts"
    label = "Two cohorts"
    needs_groups = True

    def choices(self, *, user) -> list[tuple[str, str]]:
        return [
            (str(pk), name)
            for pk, name in Cohort.objects.visible_to(user)
            .order_by("name")
            .values_list("pk", "name")
        ]

    def split(self, *, user, reference: str, focal: str) -> Split | None:
        if not (str(reference).isdigit() and str(focal).isdigit()) or reference == focal:
            return None
        cohorts = {
            c.pk: c
            for c in Cohort.objects.visible_to(user).filter(pk__in=[int(reference), int(focal)])
        }
        if len(cohorts) != 2:
            return None
        members = {
            pk: frozenset(Membership.objects.filter(cohort_id=pk).values_list("user_id", flat=True))
            for pk in cohorts
        }
        ref, foc = cohorts[int(reference)], cohorts[int(focal)]
        return Split(
            reference=Group(ref.name, candidate_ids=members[ref.pk]),
            focal=Group(foc.name, candidate_ids=members[foc.pk]),
        )
