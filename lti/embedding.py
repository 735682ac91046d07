"""LMSs open the tool in an iframe: the pages a launch reaches may be framed by the
launching platform, and their cookies must reach the tool from inside that frame.

Everything else keeps the site's defaults: `X-Frame-Options: DENY`,
`frame-ancestors 'none'` and SameSite=Lax cookies.

- Framing. A session begun by a launch remembers the origins its platform registered
  (`Registration.embedding_origins`); its pages, except the admin, answer with
  `frame-ancestors <those origins>` and no X-Frame-Options. The launch flow's own
  endpoints (`/lti/login/`, `/lti/launch/`, `/lti/deep-link/`), reached before such a
  session exists, may be framed by any registered platform: they only redirect, post a
  form back to the LMS or say why a launch was refused.
- Cookies. The platform's page posts the id_token across sites, and inside a frame on
  another site the browser sends only SameSite=None cookies (and refuses to store
  others). For the same requests the session, CSRF and OIDC state cookies are sent
  `SameSite=None; Secure; Partitioned`, as CCS_LTI_CROSS_SITE_COOKIES allows ("https":
  on requests that came over HTTPS; "always"; "off"). Partitioned (CHIPS) keeps them
  working where third-party cookies are blocked (Chrome's incognito, Firefox's total
  cookie protection): the tool's session inside one LMS's frame is that frame's alone.
"""

from __future__ import annotations

from http.cookies import Morsel

from django.conf import settings

from lti.models import Registration

# The session's mark: the origins allowed to frame it (set at launch, gone at logout).
FRAME_ORIGINS_KEY = "lti_frame_origins"
FLOW_PATHS = ("/lti/login/", "/lti/launch/", "/lti/deep-link/")
STATE_COOKIE_PREFIX = "lti1p3-"  # pylti1p3's OIDC state cookie


def session_mark(request, registration: Registration) -> None:
    """Called after a launch signs someone in: this session is the platform's to frame."""
    request.session[FRAME_ORIGINS_KEY] = registration.embedding_origins()


def registered_origins() -> list[str]:
    origins: dict[str, None] = {}
    for registration in Registration.objects.only("issuer", "frame_origins"):
        origins.update(dict.fromkeys(registration.embedding_origins()))
    return list(origins)


def _frame_origins(request) -> list[str] | None:
    """The origins that may frame this response, or None for the site's defaults."""
    path = request.path_info
    if path.startswith("/admin/"):
        return None
    if path in FLOW_PATHS:
        # Any registered platform, even in a session another one launched: a person may
        # open activities from two LMSs in one browser.
        return registered_origins() or None
    session = getattr(request, "session", None)
    marked = session.get(FRAME_ORIGINS_KEY) if session is not None else None
    return list(marked) if marked else None


def _cross_site_cookies(request) -> bool:
    mode = settings.CCS_LTI_CROSS_SITE_COOKIES
    return mode == "always" or (mode == "https" and request.is_secure())


def _is_ours(name: str) -> bool:
    return name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME) or name.startswith(
        STATE_COOKIE_PREFIX
    )


class PartitionedMorsel(Morsel):
    """A cookie with the Partitioned attribute, which http.cookies before Python 3.14 and
    Django's set_cookie do not know."""

    def OutputString(self, attrs=None):  # noqa: N802 (the stdlib's name)
        return super().OutputString(attrs) + "; Partitioned"


def _cross_site(morsel: Morsel) -> Morsel:
    partitioned = PartitionedMorsel()
    partitioned.set(morsel.key, morsel.value, morsel.coded_value)
    partitioned.update(morsel)
    partitioned["samesite"] = "None"
    partitioned["secure"] = True
    return partitioned


class LtiEmbeddingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        origins = _frame_origins(request)
        if not origins:
            return response
        # django-csp (further out) builds the header from the settings with this replaced.
        response._csp_replace = {
            **getattr(response, "_csp_replace", {}),
            "frame-ancestors": origins,
        }
        if "X-Frame-Options" in response:
            # Browsers that know frame-ancestors ignore X-Frame-Options next to it; older
            # ones know only X-Frame-Options, where DENY would refuse the LMS (and its
            # ALLOW-FROM is obsolete).
            del response["X-Frame-Options"]
        if _cross_site_cookies(request):
            for name, morsel in list(response.cookies.items()):
                if _is_ours(name):
                    response.cookies[name] = _cross_site(morsel)
        return response
