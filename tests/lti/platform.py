"""A real LTI 1.3 platform for the tests, from the lti1p3platform package: it starts the
OIDC login, signs the id_token, and serves its key set, an OAuth2 token endpoint, an AGS
line item (scores and results) and an NRPS roster over HTTP on a free local port."""

from __future__ import annotations

import html
import json
import threading
import urllib.parse
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import RequestFactory
from lti1p3platform.framework.django.request import DjangoRequest
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request
from lti1p3platform.service_connector import AssignmentsGradesService

ISSUER = "https://lms.example.edu"
CLIENT_ID = "ccs-sim-tool"
DEPLOYMENT_ID = "dep-1"
LEARNER = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"]
INSTRUCTOR = ["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"]
ADMIN = ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"]
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
]


def rsa_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class Platform(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, *, private_key, public_key, deployment_id=DEPLOYMENT_ID, **kw):
        self._registration = (
            Registration()
            .set_iss(ISSUER)
            .set_client_id(kw.get("client_id", CLIENT_ID))
            .set_deployment_id(deployment_id)
            .set_platform_private_key(private_key)
            .set_platform_public_key(public_key)
        )
        self.set_tool_url(kw.get("tool_url", "http://testserver"))

    def set_tool_url(self, tool_url: str) -> None:
        """Where the tool is: the test client's host, or a live server for the browser."""
        self.tool_url = tool_url.rstrip("/")
        (
            self._registration.set_oidc_login_url(f"{self.tool_url}/lti/login/")
            .set_launch_url(f"{self.tool_url}/lti/launch/")
            .set_deeplink_launch_url(f"{self.tool_url}/lti/launch/")
        )

    def get_registration_by_params(self, **kwargs):
        return self._registration


class Login(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs):
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url):
        return url


class MessageLaunch(LTIAdvantageMessageLaunchAbstract):
    """The platform's launch; the test posts its form data itself, so nothing is rendered
    (the package's own Django class renders with Jinja2, which the project does not use)."""

    def render_launch_form(self, launch_data, **kwargs):
        return launch_data


class WsgiRequest(Request):
    def build_metadata(self, environ):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        ctype = environ.get("CONTENT_TYPE", "")
        headers = {
            k[5:].replace("_", "-").title(): v for k, v in environ.items() if k.startswith("HTTP_")
        }
        return {
            "method": environ["REQUEST_METHOD"],
            "form_data": dict(urllib.parse.parse_qsl(body.decode())) if "form" in ctype else {},
            "json": json.loads(body) if body and "json" in ctype else None,
            "get_data": dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", ""))),
            "headers": headers,
            "content_type": ctype,
            "path": environ["PATH_INFO"],
        }


class LineItems(AssignmentsGradesService):
    """The platform's gradebook: line items and their scores, kept by the server."""

    server: PlatformServer

    def update_score(self, line_item_id, score):
        from lti1p3platform.score import UpdateScoreStatus

        self.server.scores.setdefault(line_item_id, []).append(score)
        return UpdateScoreStatus.SUCCESS

    def get_results(self, line_item_id, page=1, limit=None, user_id=None):
        content = [
            {
                "userId": s["userId"],
                "resultScore": s["scoreGiven"],
                "resultMaximum": s["scoreMaximum"],
                "comment": s.get("comment"),
                "scoreOf": self.server.lineitem_url(line_item_id),
            }
            for s in self.server.scores.get(line_item_id, [])
            if user_id is None or s["userId"] == user_id
        ]
        return {"content": content, "has_next": False, "next": None}

    def find_lineitems(self, page=1, limit=None, line_item_id=None, resource_link_id=None,
                       resource_id=None, tag=None):  # fmt: skip
        wanted = {"resourceLinkId": resource_link_id, "resourceId": resource_id, "tag": tag}
        content = [
            item
            for item in self.server.lineitems.values()
            if all(v is None or item.get(k) == v for k, v in wanted.items())
        ]
        return {"content": content, "has_next": False}

    def find_lineitem(self, line_item_id):
        return self.server.lineitems[line_item_id]

    def create_lineitem(self, creation_data):
        number = str(len(self.server.lineitems) + 1)
        item = {**creation_data, "id": self.server.lineitem_url(number)}
        self.server.lineitems[number] = item
        return item

    def update_lineitem(self, update_data):
        return update_data

    def delete_lineitem(self, line_item_id):
        return None


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class PlatformServer:
    """The platform's HTTP side. `fail_next` answers that many score posts with a 503.

    Besides its services it plays the LMS for a browser: `/course/launch` starts the
    login (a link in a course), `/auth` is its OIDC authorization endpoint and answers
    with the self-posting id_token form, and `/course` is a course page that opens the
    tool in an iframe. `launch_as` says who is launching and how (the `launch` keywords).
    """

    def __init__(self, platform: Platform):
        self.platform = platform
        self.members: list[dict] = []
        self.fail_next = 0
        self.score_requests = 0
        self.created_lineitems = 0
        self.launch_as: dict = {}
        self.deep_links: list[dict] = []
        self.server = make_server("127.0.0.1", 0, self.app, WSGIServer, _Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # Line item "1" is the one the launches name; others are created by the tool.
        self.lineitems: dict[str, dict] = {
            "1": {"id": self.lineitem_url("1"), "scoreMaximum": 400, "label": "Exam"}
        }
        self.scores: dict[str, list[dict]] = {}
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def lineitem_url(self, number: str) -> str:
        return f"{self.url}/lineitems/{number}"

    def platform_scores(self, number: str = "1") -> list[dict]:
        return list(self.scores.get(number, []))

    @property
    def lineitem(self) -> str:
        return self.lineitem_url("1")

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def _ags(self, request, number: str | None = None) -> LineItems:
        service = LineItems(
            request, self.platform, f"{self.url}/lineitems", self.lineitem_url(number or "1")
        )
        service.server = self
        return service

    def app(self, environ, start_response):
        path = environ["PATH_INFO"]
        request = WsgiRequest(environ)
        status, body = 404, {"error": "not found"}
        try:
            if path == "/course/launch":
                return self._redirect(start_response, self._login_url())
            if path == "/course":
                return self._html(start_response, 200, self._course_page())
            if path == "/auth":
                return self._auth(start_response, request)
            if path == "/deep-link-return":
                items = self.platform.validate_deeplinking_resp(request.form_data)
                self.deep_links.extend(items)
                titles = ", ".join(html.escape(i.get("title", "")) for i in items)
                return self._html(start_response, 200, f"<h1>Added: {titles}</h1>")
            if path == "/jwks":
                status, body = 200, self.platform.get_jwks()
            elif path == "/token":
                status, body = 200, dict(self.platform.get_access_token(request.form_data))
            elif path == "/lineitems":
                service = self._ags(request)
                if request.method == "POST":
                    resp = service.handle_create_lineitem()
                    self.created_lineitems += resp.code == 201
                    status, body = resp.code, resp.result
                else:
                    resp = service.handle_get_lineitems()
                    status, body = resp.code, (resp.result or {}).get("content", [])
            elif path.startswith("/lineitems/"):
                number = path.split("/")[2]
                if number not in self.lineitems:
                    raise LookupError(f"no line item {number}")
                service = self._ags(request, number)
                if path.endswith("/scores"):
                    self.score_requests += 1
                    if self.fail_next:
                        self.fail_next -= 1
                        status, body = 503, {"error": "gradebook busy"}
                    else:
                        resp = service.handle_update_score(number)
                        status, body = resp.code, {"status": resp.message}
                elif path.endswith("/results"):
                    resp = service.handle_get_results(number)
                    status, body = resp.code, (resp.result or {}).get("content", [])
                else:
                    resp = service.handle_get_lineitem(number)
                    status, body = resp.code, resp.result
            elif path == "/memberships":
                scope = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
                token = request.headers.get("Authorization", "").split()[-1]
                if not self.platform.validate_token(token, [scope]):
                    status, body = 401, {"error": "bad token"}
                else:
                    status = 200
                    body = {"id": f"{self.url}/memberships", "members": self.members}
        except LookupError as exc:
            status, body = 404, {"error": str(exc)}
        except Exception as exc:  # a refusal by the platform library: 401, like an LMS
            status, body = 401, {"error": str(exc)}
        data = json.dumps(body).encode()
        start_response(
            f"{status} X",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]

    # --- The LMS a browser sees ------------------------------------------------------------
    def _login_url(self) -> str:
        login = Login(None, self.platform)
        login.set_lti_message_hint(hint=self.launch_as.get("link_id") or "dl")
        return login.prepare_preflight_url(self.launch_as.get("sub", "learner-1"))

    def _auth(self, start_response, request):
        params = dict(request.get_data)
        if params.get("redirect_uri") != f"{self.platform.tool_url}/lti/launch/":
            return self._html(start_response, 400, "<p>Unregistered redirect_uri</p>")
        options = {k: v for k, v in self.launch_as.items() if k != "sub"}
        data = auth_answer(
            self.platform, params, sub=self.launch_as.get("sub", "learner-1"), server=self,
            **options,
        )  # fmt: skip
        fields = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in data.items()
        )
        page = (
            "<!doctype html><title>Launching…</title>"
            f'<form id="launch" method="post" action="{html.escape(params["redirect_uri"])}">'
            f"{fields}</form><script>document.getElementById('launch').submit()</script>"
        )
        return self._html(start_response, 200, page)

    def _course_page(self) -> str:
        return (
            "<!doctype html><title>HIM 101</title><h1>HIM 101</h1>"
            '<iframe id="tool" title="CCS mock exam" src="/course/launch" '
            'width="1200" height="800" allow="fullscreen"></iframe>'
        )

    @staticmethod
    def _html(start_response, status: int, page: str):
        data = page.encode()
        start_response(
            f"{status} X",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data)))],
        )
        return [data]

    @staticmethod
    def _redirect(start_response, location: str):
        start_response("302 Found", [("Location", location), ("Content-Length", "0")])
        return [b""]


def auth_answer(
    platform: Platform,
    params: dict,
    *,
    sub: str = "learner-1",
    roles=LEARNER,
    context_id: str = "course-101",
    link_id: str | None = "link-1",
    server: PlatformServer | None = None,
    lineitem: bool = True,
    custom: dict | None = None,
    deep_link: bool = False,
    expiration: int | None = None,
    extra_claims: dict | None = None,
) -> dict:
    """The platform's OIDC authorization endpoint: the id_token form for these parameters."""
    auth_request = DjangoRequest(RequestFactory().get("/auth", params))
    message = MessageLaunch(auth_request, platform)
    message._registration = platform.get_registration()
    message.validate_preflight_response(message.get_preflight_response())
    message.set_user_data(sub, list(roles), full_name="Pat Doe", email_address=f"{sub}@example.edu")
    message.set_extra_claims({"given_name": "Pat", "family_name": "Doe"})
    message.set_launch_context_claim(context_id, context_title="HIM 101")
    if link_id:
        message.set_resource_link_claim(link_id, title="CCS mock exam")
    if server is not None:
        message.set_ags(f"{server.url}/lineitems", server.lineitem if lineitem else None)
        ags = message.extra_claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]
        ags["scope"] = list(AGS_SCOPES)
        if not lineitem:
            ags.pop("lineitem", None)
        message.set_nrps(f"{server.url}/memberships")
    if custom:
        message.set_custom_parameters_claim(custom)
    if deep_link:
        message.set_dl(f"{server.url if server else 'http://lms'}/deep-link-return", title="Pick")
    if expiration is not None:
        message.set_id_token_expiration(expiration)
    if extra_claims:
        message.set_extra_claims(extra_claims)
    return dict(message.generate_launch_request())


def launch(client, platform: Platform, *, sub: str = "learner-1", link_id: str | None = "link-1",
           post=True, **options):  # fmt: skip
    """The OIDC dance: platform → tool's login → platform auth (here) → tool's launch.

    Returns the launch response, or the form data when `post` is False. `options` are
    those of `auth_answer` (roles, server, lineitem, custom, deep_link, …).
    """
    login = Login(None, platform)
    login.set_lti_message_hint(hint=link_id or "dl")
    preflight = login.prepare_preflight_url(sub)
    response = client.get(preflight)
    assert response.status_code == 302, response.content
    auth = urllib.parse.urlsplit(response["Location"])
    params = dict(urllib.parse.parse_qsl(auth.query))
    data = auth_answer(platform, params, sub=sub, link_id=link_id, **options)
    assert params["redirect_uri"] == "http://testserver/lti/launch/"
    if not post:
        return data
    return client.post(params["redirect_uri"], data)
