"""Middleware that answers hostile or oversized requests before any view sees them.

Each check is a scan of a few strings from the WSGI environ: none reads the body (the size
check must come before anything does) and none touches the database or the cache, so they
cost microseconds on the autosave hot path.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse

# What a browser may use on our pages: nothing but full-screen for the exam and the
# clipboard the code book uses. Everything else a page could ask for is refused.
PERMISSIONS_POLICY = ", ".join(
    [
        "accelerometer=()",
        "ambient-light-sensor=()",
        "autoplay=()",
        "battery=()",
        "bluetooth=()",
        "camera=()",
        "display-capture=()",
        "geolocation=()",
        "gyroscope=()",
        "hid=()",
        "idle-detection=()",
        "magnetometer=()",
        "microphone=()",
        "midi=()",
        "payment=()",
        "publickey-credentials-get=()",
        "screen-wake-lock=()",
        "serial=()",
        "usb=()",
        "xr-spatial-tracking=()",
        "fullscreen=(self)",
    ]
)


def rejected(request, status: int, title: str, message: str):
    """A normal page (our layout, a heading and one sentence) for a refused request."""
    return render(
        request,
        "request_rejected.html",
        {"title": title, "message": message},
        status=status,
    )


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class RequestBodyLimitMiddleware:
    """Answer 413 to a body larger than the cap, judged from Content-Length alone.

    Django reads a body only when something asks for request.POST, FILES or body; this
    middleware runs before any of them, so an oversized upload is refused without being
    read. URLs named in CCS_REQUEST_BODY_LIMITS (the bank import) have their own, larger
    cap, above the import form's own limit so that its more precise message wins.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._limits: dict[str, int] | None = None

    def limits(self) -> dict[str, int]:
        if self._limits is None:
            limits = {}
            for name, cap in settings.CCS_REQUEST_BODY_LIMITS.items():
                try:
                    limits[reverse(name)] = cap
                except NoReverseMatch:
                    continue
            self._limits = limits
        return self._limits

    def __call__(self, request):
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0:
            return rejected(
                request, 400, "Bad request", "The request's Content-Length is not a number."
            )
        cap = self.limits().get(request.path, settings.CCS_MAX_REQUEST_BYTES)
        if length > cap:
            return rejected(
                request,
                413,
                "Request too large",
                f"This request is {_size(length)}; this page accepts at most {_size(cap)}.",
            )
        return self.get_response(request)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{max(1, round(n / 1024))} kB"


def _bad_text(data: bytes) -> str | None:
    """Why these bytes cannot be taken as text, or None."""
    if b"\x00" in data:
        return "contains a NUL character"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "is not valid UTF-8"
    return None


class MalformedRequestMiddleware:
    """Answer 400 with a message to addresses and parameters that no page can use.

    NUL characters and invalid UTF-8 in the path, query or a form field would otherwise
    reach the database (PostgreSQL refuses NUL in text: a 500) or be silently replaced;
    an overlong query string is refused before any view parses it. Doing it once here
    covers every view, including ones written later.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = self.problem(request)
        if problem:
            return rejected(request, 400, "Bad request", problem)
        return self.get_response(request)

    @staticmethod
    def problem(request) -> str | None:
        # Django has already decoded the path, re-escaping bytes that are not UTF-8 as
        # %XX; undoing that escape finds them (no page of ours has a "%" in its address).
        reason = _bad_text(unquote_to_bytes(request.path_info))
        if reason:
            return f"The address {reason}."
        query = request.META.get("QUERY_STRING", "")
        if len(query) > settings.CCS_MAX_QUERY_STRING:
            return (
                f"The address's query is {len(query)} characters long; "
                f"at most {settings.CCS_MAX_QUERY_STRING} are accepted."
            )
        reason = _bad_text(unquote_to_bytes(query.replace("+", " ")))
        if reason:
            return f"The address's query {reason}."
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            # Form fields only (not files): the same rule as the query. Reading POST here
            # reads a body the size check has already accepted, as CSRF would anyway.
            for values in request.POST.lists():
                if any("\x00" in value for value in values[1]) or "\x00" in values[0]:
                    return "A form field contains a NUL character."
        return None
