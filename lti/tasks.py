"""Celery tasks for LTI: thin, they take ids and call services."""

from __future__ import annotations

from celery import shared_task

from lti import services


@shared_task(name="lti.tasks.post_grade")
def post_grade(post_id: int) -> bool:
    """Post one pending grade (a row lock keeps it from being sent twice)."""
    return services.grade_post_send(post_id=post_id)


@shared_task(name="lti.tasks.post_pending_grades")
def post_pending_grades() -> int:
    """Beat, every minute: post every pending grade whose next try is due."""
    return services.grade_posts_send_due()


@shared_task(name="lti.tasks.forget_used_nonces")
def forget_used_nonces() -> int:
    """Beat: delete the nonces of launches too old to be accepted again anyway."""
    return services.used_nonces_forget()
