"""The one base error of the application.

Services raise a subclass of `ApplicationError` when they refuse something a person asked
for: its text is written for that person (what was wrong, what to do), and `status_code`
is the HTTP status a page answers with. A view may catch it to show the message in place;
one that does not still answers with the message and the status, never a 500
(ccs_sim.middleware.ApplicationErrorMiddleware).
"""

from __future__ import annotations


class ApplicationError(Exception):
    status_code = 400

    @property
    def user_message(self) -> str:
        return str(self)
