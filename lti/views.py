"""The LTI endpoints: OIDC login initiation, launch, the tool's JWKS, a link's settings and
the deep-linking picker. A launch the tool refuses answers 4xx with a page saying why, and
signs nobody in."""

from __future__ import annotations

import logging

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from pylti1p3.contrib.django import DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.deep_link_resource import DeepLinkResource
from pylti1p3.exception import LtiException
from pylti1p3.lineitem import LineItem

from common.accounts import ACCOUNT_BACKEND
from common.roles import Role
from exams.models import ExamForm, ReviewPolicy
from lti import embedding, keys, services
from lti.models import Registration, ResourceLink, origin_of
from lti.platform_client import SCORE_MAXIMUM
from lti.tool_conf import DatabaseToolConf

logger = logging.getLogger(__name__)

LAUNCH_SESSION_KEY = "lti_deep_link_launch"
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
BACKEND = ACCOUNT_BACKEND


def _refused(request, reason: str, status: int = 403) -> HttpResponse:
    logger.info("lti launch refused: %s", reason)
    return render(request, "lti/refused.html", {"reason": reason}, status=status)


# Library messages → what the person is told. Anything else is shown as the library says.
_REASONS = [
    ("Signature has expired", "The launch token has expired. Open the activity again."),
    ("Signature verification failed", "The launch token's signature is not valid."),
    ("Unable to find public key", "The launch token is signed with a key the LMS never published."),
    ("Registration not found", "This LMS (issuer and client id) is not registered with the tool."),
    ("Client id not registered", "The launch token is addressed to another tool (wrong audience)."),
    ("Unable to find deployment", "This deployment of the tool is not registered."),
    ("State not found", "The launch does not belong to a sign-in started here."),
    ("Missing state", "The launch does not belong to a sign-in started here."),
    ("Invalid Nonce", "The launch token's nonce does not match the sign-in started here."),
]


def _reason(exc: Exception) -> str:
    text = str(exc)
    for needle, said in _REASONS:
        if needle in text:
            return f"{said} ({text})"
    return f"The launch is not valid: {text}"


@csrf_exempt
@require_http_methods(["GET", "POST"])
def login_initiation(request):
    """Step 1 of the OIDC dance: the platform asks us to start a sign-in."""
    target = reverse("lti:launch")
    try:
        oidc = DjangoOIDCLogin(request, DatabaseToolConf())
        return oidc.redirect(request.build_absolute_uri(target))
    except LtiException as exc:
        return _refused(request, _reason(exc), status=400)
    except Exception as exc:  # a request the library did not foresee: still 4xx
        logger.warning("lti login refused: %s: %s", type(exc).__name__, exc)
        return _refused(request, "The sign-in request from the LMS could not be read.", 400)


@csrf_exempt
@require_http_methods(["POST"])
def launch(request):
    """Step 3: the platform posts the id_token. Validated by pylti1p3 (state, signature,
    expiry, audience, deployment), the nonce used once, then the person is signed in."""
    tool_conf = DatabaseToolConf()
    message = DjangoMessageLaunch(request, tool_conf)
    try:
        claims = message.get_launch_data()
    except LtiException as exc:
        return _refused(request, _reason(exc))
    except Exception as exc:  # a malformed token the library did not foresee: still 4xx
        logger.warning("lti launch failed to validate: %s: %s", type(exc).__name__, exc)
        return _refused(request, "The launch could not be read.", status=400)
    aud = claims.get("aud")
    registration = Registration.objects.get(
        issuer=claims["iss"], client_id=aud[0] if isinstance(aud, list) else aud
    )
    try:
        outcome = services.launch_accept(registration=registration, claims=claims)
    except services.LaunchRefused as exc:
        return _refused(request, exc.user_message, status=exc.status_code)
    login(request, outcome.user, backend=BACKEND)
    # After login(), which starts a new session: from now on the LMS may frame it.
    embedding.session_mark(request, registration)
    if message.is_deep_link_launch():
        request.session[LAUNCH_SESSION_KEY] = message.get_launch_id()
        return redirect("lti:deep_link")
    link = outcome.link
    if outcome.role == Role.CANDIDATE:
        if link is None or link.form_id is None:
            return render(request, "lti/not_ready.html", {"link": link}, status=409)
        return redirect("exams:instructions", form_id=link.form_id)
    if link is not None:
        return redirect("lti:link_settings", pk=link.pk)
    return redirect("home")


@require_GET
def jwks(request):
    """The tool's public keys (the active one and those retired lately), never a private key."""
    return JsonResponse(keys.jwks())


def _published_forms():
    return ExamForm.objects.exams().published().offerable().order_by("name")


@login_required
@require_http_methods(["GET", "POST"])
def link_settings(request, pk: int):
    """An instructor chooses the form a link opens (for links made without deep linking)."""
    link = get_object_or_404(ResourceLink.objects.select_related("context__cohort", "form"), pk=pk)
    cohort = link.context.cohort
    allowed = (
        request.user.is_superuser
        or cohort.instructors.filter(pk=request.user.pk).exists()
        or cohort.managers.filter(pk=request.user.pk).exists()
    )
    if not allowed:
        raise Http404
    error = ""
    if request.method == "POST":
        form = _published_forms().filter(pk=request.POST.get("form")).first()
        policy = request.POST.get("review_policy", ReviewPolicy.AFTER_SUBMISSION)
        if form is None or policy not in ReviewPolicy.values or policy == ReviewPolicy.AFTER_CLOSE:
            error = "Choose one of the published forms and a review policy."
        else:
            services.link_form_choose(link=link, form=form, review_policy=policy)
            return redirect("lti:link_settings", pk=link.pk)
    return render(
        request,
        "lti/link_settings.html",
        {"link": link, "forms": _published_forms(), "policies": _policies(), "error": error},
        status=400 if error else 200,
    )


def _policies():
    # "After the window closes" needs a closing time, which an LMS link does not have.
    return [(v, label) for v, label in ReviewPolicy.choices if v != ReviewPolicy.AFTER_CLOSE]


@login_required
@require_http_methods(["GET", "POST"])
def deep_link(request):
    """The instructor picks a published form and its review policy; the tool answers the
    platform with an LtiDeepLinkingResponse (an auto-submitted form)."""
    launch_id = request.session.get(LAUNCH_SESSION_KEY)
    if not launch_id:
        return _refused(request, "No deep-linking request is under way.", status=400)
    try:
        message = DjangoMessageLaunch.from_cache(launch_id, request, DatabaseToolConf())
    except LtiException as exc:
        return _refused(request, _reason(exc), status=400)
    if not message.is_deep_link_launch():
        return _refused(request, "No deep-linking request is under way.", status=400)
    error = ""
    if request.method == "POST":
        form = _published_forms().filter(pk=request.POST.get("form")).first()
        policy = request.POST.get("review_policy", "")
        if form is None or policy not in dict(_policies()):
            error = "Choose one of the published forms and a review policy."
        else:
            resource = (
                DeepLinkResource()
                .set_url(request.build_absolute_uri(reverse("lti:launch")))
                .set_title(form.name)
                .set_custom_params({"form_id": str(form.pk), "review_policy": policy})
                .set_lineitem(
                    LineItem()
                    .set_label(form.name)
                    .set_score_maximum(SCORE_MAXIMUM)
                    .set_resource_id(f"form-{form.pk}")
                )
            )
            return_url = (message.get_launch_data().get(DL_SETTINGS) or {}).get(
                "deep_link_return_url", ""
            )
            return_origin = origin_of(return_url)
            if not return_origin:
                return _refused(request, "The LMS gave no address to return to.", status=400)
            jwt_value = message.get_deep_link().get_response_jwt([resource])
            del request.session[LAUNCH_SESSION_KEY]
            response = render(
                request,
                "lti/deep_link_return.html",
                {"return_url": return_url, "jwt": jwt_value, "form_name": form.name},
            )
            # The page's form posts to the LMS: the one origin besides ours it may post to.
            response._csp_update = {"form-action": [return_origin]}
            return response
    return render(
        request,
        "lti/deep_link.html",
        {"forms": _published_forms(), "policies": _policies(), "error": error},
        status=400 if error else 200,
    )
