"""LTI hears of scores through scoring.signals (connected in LtiConfig.ready)."""

from __future__ import annotations

import logging

from django.db import transaction

from lti import services, tasks

logger = logging.getLogger(__name__)


def grade_posts_when_scored(sender, *, attempt_id: int, result, **kwargs) -> None:
    # Inside the scoring transaction: the need to post is recorded with the score itself.
    posts = services.grade_posts_record(attempt_id=attempt_id, result=result)
    for post in posts:
        transaction.on_commit(lambda pk=post.pk: hint_posting(pk))


def grade_posts_when_rescored(sender, *, attempt_id: int, result, **kwargs) -> None:
    # Inside the rescoring transaction, like the first post: the platform is owed the new score.
    for pk in services.grade_posts_reopen(attempt_id=attempt_id, result=result):
        transaction.on_commit(lambda pk=pk: hint_posting(pk))


def hint_posting(post_id: int) -> None:
    """Ask a worker to post now. Only a hint: the GradePost row is the record, and
    lti.tasks.post_pending_grades (beat) posts whatever is still pending."""
    try:
        tasks.post_grade.apply_async((post_id,), retry=False)
    except Exception as exc:  # the broker is down: the sweep will post it
        logger.warning("grade post hint %s not sent (%s); the sweep will post it", post_id, exc)
