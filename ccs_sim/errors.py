"""Turns an application error that no view caught into a page with its message.

Services refuse with a subclass of common.errors.ApplicationError; most views catch it and
show the message in place. One that escapes still reaches the person as its own message
and status code instead of a server error.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.shortcuts import render

from common.errors import ApplicationError

logger = logging.getLogger(__name__)


class ApplicationErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, ApplicationError):
            return None
        logger.info("refused %s %s: %s", request.method, request.path, exception.user_message)
        return render(
            request,
            "refused.html",
            {"message": exception.user_message},
            status=exception.status_code,
        )


class DatabaseUnavailableMiddleware:
    """A database that dropped the connection (a restart, a terminated backend) answers
    503 with Retry-After instead of a server error: the exam page's retry queue and any
    client treat it as "try again", and Django reconnects on the next request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        logger.warning("database unavailable on %s %s: %s", request.method, request.path, exception)
        response = HttpResponse(
            "The service is briefly unavailable; your last change was not saved yet and will "
            "be retried.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = "2"
        return response
