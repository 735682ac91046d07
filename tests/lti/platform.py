"""A real LTI 1.3 platform for the tests, from the lti1p3platform package: it starts the
OIDC login, signs the id_token, and serves its key set, an OAuth2 token endpoint, an AGS
line item (scores and results) and an NRPS roster over HTTP on a free local port."""

from __future__ import annotations

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
            .set_oidc_login_url("http://testserver/lti/login/")
            .set_launch_url("http://testserver/lti/launch/")
            .set_deeplink_launch_url("http://testserver/lti/launch/")
            .set_platform_private_key(private_key)
            .set_platform_public_key(public_key)
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
    """The platform's gradebook: one line item whose scores are kept in memory."""

    scores: list = []

    def update_score(self, line_item_id, score):
        from lti1p3platform.score import UpdateScoreStatus

        LineItems.scores.append(score)
        return UpdateScoreStatus.SUCCESS

    def get_results(self, line_item_id, page=1, limit=None, user_id=None):
        content = [
            {
                "userId": s["userId"],
                "resultScore": s["scoreGiven"],
                "resultMaximum": s["scoreMaximum"],
                "comment": s.get("comment"),
                "scoreOf": self.ags.lineitem_url,
            }
            for s in LineItems.scores
        ]
        return {"content": content, "has_next": False, "next": None}

    def find_lineitems(self, *a, **k):
        return {"content": [], "has_next": False}

    def find_lineitem(self, line_item_id):
        return {"id": self.ags.lineitem_url, "scoreMaximum": 400, "label": "Exam"}

    def create_lineitem(self, creation_data):
        return creation_data

    def update_lineitem(self, update_data):
        return update_data

    def delete_lineitem(self, line_item_id):
        return None


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class PlatformServer:
    """The platform's HTTP side. `fail_next` answers that many score posts with a 503."""

    def __init__(self, platform: Platform):
        self.platform = platform
        self.members: list[dict] = []
        self.fail_next = 0
        self.score_requests = 0
        LineItems.scores = []
        self.server = make_server("127.0.0.1", 0, self.app, WSGIServer, _Quiet)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def platform_scores(self) -> list[dict]:
        return list(LineItems.scores)

    @property
    def lineitem(self) -> str:
        return f"{self.url}/lineitems/1"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def app(self, environ, start_response):
        path = environ["PATH_INFO"]
        request = WsgiRequest(environ)
        status, body = 404, {"error": "not found"}
        try:
            if path == "/jwks":
                status, body = 200, self.platform.get_jwks()
            elif path == "/token":
                status, body = 200, dict(self.platform.get_access_token(request.form_data))
            elif path.startswith("/lineitems/1"):
                service = LineItems(request, self.platform, f"{self.url}/lineitems", self.lineitem)
                if path.endswith("/scores"):
                    self.score_requests += 1
                    if self.fail_next:
                        self.fail_next -= 1
                        status, body = 503, {"error": "gradebook busy"}
                    else:
                        resp = service.handle_update_score("1")
                        status, body = resp.code, {"status": resp.message}
                elif path.endswith("/results"):
                    resp = service.handle_get_results("1")
                    status, body = resp.code, (resp.result or {}).get("content", [])
            elif path == "/memberships":
                scope = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
                token = request.headers.get("Authorization", "").split()[-1]
                if not self.platform.validate_token(token, [scope]):
                    status, body = 401, {"error": "bad token"}
                else:
                    status = 200
                    body = {"id": f"{self.url}/memberships", "members": self.members}
        except Exception as exc:  # a refusal by the platform library: 401, like an LMS
            status, body = 401, {"error": str(exc)}
        data = json.dumps(body).encode()
        start_response(
            f"{status} X",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]


def launch(
    client,
    platform: Platform,
    *,
    sub: str = "learner-1",
    roles=LEARNER,
    context_id: str = "course-101",
    link_id: str | None = "link-1",
    server: PlatformServer | None = None,
    custom: dict | None = None,
    deep_link: bool = False,
    expiration: int | None = None,
    extra_claims: dict | None = None,
    post=True,
):
    """The OIDC dance: platform → tool's login → platform auth (here) → tool's launch.

    Returns the launch response, or the form data when `post` is False.
    """
    login = Login(None, platform)
    login.set_lti_message_hint(hint=link_id or "dl")
    preflight = login.prepare_preflight_url(sub)
    response = client.get(preflight)
    assert response.status_code == 302, response.content
    auth = urllib.parse.urlsplit(response["Location"])
    params = dict(urllib.parse.parse_qsl(auth.query))
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
        message.set_ags(f"{server.url}/lineitems", server.lineitem)
        message.extra_claims["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]["scope"] = (
            list(AGS_SCOPES)
        )
        message.set_nrps(f"{server.url}/memberships")
    if custom:
        message.set_custom_parameters_claim(custom)
    if deep_link:
        message.set_dl(f"{server.url if server else 'http://lms'}/deep-link-return", title="Pick")
    if expiration is not None:
        message.set_id_token_expiration(expiration)
    if extra_claims:
        message.set_extra_claims(extra_claims)
    data = dict(message.generate_launch_request())
    assert params["redirect_uri"] == "http://testserver/lti/launch/"
    if not post:
        return data
    return client.post(params["redirect_uri"], data)
