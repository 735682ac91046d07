"""Who is compared with whom in a DIF analysis: a small registry of "split providers".

A split divides a form's finished exam attempts into a reference group and a focal group.
Item analysis knows the splits it can compute from exams alone (first attempt versus
repeat); splits that need knowledge from apps above it (two cohorts, later two programs)
are registered by those apps from their AppConfig.ready() (cohorts.dif registers the
cohort split), so nothing here imports upward.

A provider says which groups a user may choose between (`choices`, empty when the split
needs no choice) and builds the split (`split`), returning None when the user may not see
one of the groups asked for. A group is a set of candidates, or of attempts, or both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from exams.models import Attempt


@dataclass(frozen=True)
class Group:
    label: str
    candidate_ids: frozenset[int] | None = None  # None: any candidate
    attempt_ids: frozenset[int] | None = None  # None: any attempt

    def holds(self, *, attempt_id: int, candidate_id: int) -> bool:
        return (self.candidate_ids is None or candidate_id in self.candidate_ids) and (
            self.attempt_ids is None or attempt_id in self.attempt_ids
        )


@dataclass(frozen=True)
class Split:
    reference: Group
    focal: Group


class SplitProvider(Protocol):
    key: str
    label: str
    needs_groups: bool  # True: the user picks the reference and the focal group

    def choices(self, *, user) -> list[tuple[str, str]]: ...

    def split(self, *, user, reference: str, focal: str) -> Split | None: ...


_providers: dict[str, SplitProvider] = {}


def register(provider: SplitProvider) -> None:
    _providers[provider.key] = provider


def providers() -> list[SplitProvider]:
    return list(_providers.values())


def provider(key: str) -> SplitProvider | None:
    return _providers.get(key)


class FirstVersusRepeat:
    """First-time candidates (reference) against repeaters (focal): an attempt is a
    repeat when the candidate had finished an earlier exam attempt, on any form."""

    key = "attempt-order"
    label = "First attempt versus repeat attempts"
    needs_groups = False

    def choices(self, *, user) -> list[tuple[str, str]]:
        return []

    def split(self, *, user, reference: str = "", focal: str = "") -> Split:
        first: dict[int, tuple] = {}
        every = []
        for pk, candidate_id, started in (
            Attempt.objects.exams().finished().values_list("pk", "candidate_id", "started_at")
        ):
            every.append(pk)
            if candidate_id not in first or (started, pk) < first[candidate_id]:
                first[candidate_id] = (started, pk)
        firsts = frozenset(pk for _, pk in first.values())
        return Split(
            reference=Group("First attempts", attempt_ids=firsts),
            focal=Group("Repeat attempts", attempt_ids=frozenset(every) - firsts),
        )


register(FirstVersusRepeat())
