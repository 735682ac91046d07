"""Shared fixtures: the people of STYLE.md, real services, and the browser.

With CCS_REQUIRE_SERVICES=1 (CI) a run that is not on PostgreSQL or cannot reach Redis
stops at start, and tests that need Redis or Chromium fail instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import time

import pytest

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls
# from such a thread unless told that this is deliberate.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"


def services_required() -> bool:
    return os.environ.get("CCS_REQUIRE_SERVICES", "") == "1"


def redis_problem(url: str | None) -> str | None:
    if not url:
        return "REDIS_URL is not set"
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as exc:  # any failure means Redis is not usable
        return f"Redis at {url} does not answer ({type(exc).__name__}: {exc})"
    return None


def pytest_collection_modifyitems(items):
    """Transactional tests restore the migrations' data (roles, domains, blueprint).

    A transactional test ends by emptying every table; without serialized rollback the
    groups and domains that data migrations created would be gone for the tests after it.
    """
    for item in items:
        marker = item.get_closest_marker("django_db")
        if (
            marker
            and marker.kwargs.get("transaction")
            and "serialized_rollback" not in marker.kwargs
        ):
            kwargs = dict(marker.kwargs, serialized_rollback=True)
            item.add_marker(pytest.mark.django_db(*marker.args, **kwargs), append=False)


def restore_migration_data() -> None:
    """Recreate what migrations put in the database (permissions, roles, domains, blueprint).

    Serialized rollback does not reach every transactional test (not those with a live
    server on SQLite), so tests that follow a table flush rebuild these rows themselves.
    """
    import importlib

    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.management import create_contenttypes

    from common.roles import sync_roles
    from exams.models import Blueprint
    from questionbank.models import Domain

    if Group.objects.exists() and Domain.objects.exists() and Blueprint.objects.exists():
        return
    for app_config in apps.get_app_configs():
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    sync_roles()
    importlib.import_module("questionbank.migrations.0002_ccs_domains").create_domains(apps, None)
    importlib.import_module("exams.migrations.0002_ccs_blueprint").create_ccs_blueprint(apps, None)


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks run in-process unless a test starts a real worker (and turns this off).

    With REDIS_URL set the project sends tasks to Redis; a test without a worker would wait
    for them forever.
    """
    from ccs_sim.celery import app

    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = saved


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: cached pages, form rows and DRG results of one
    test must not answer for another's data."""
    from django.core.cache import cache

    from exams.selectors import clear_local_cache

    cache.clear()
    clear_local_cache()


@pytest.fixture(autouse=True)
def _migration_data(request):
    marker = request.node.get_closest_marker("django_db")
    transactional = (marker and marker.kwargs.get("transaction")) or (
        "live_server" in request.fixturenames or "transactional_db" in request.fixturenames
    )
    if transactional:
        request.getfixturevalue("transactional_db")
        restore_migration_data()


def pytest_sessionstart(session):
    if not services_required():
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.exit(
            "CCS_REQUIRE_SERVICES=1 but the tests are not running on PostgreSQL "
            f"(database vendor: {connection.vendor}); set DATABASE_URL=postgres://...",
            returncode=3,
        )
    problem = redis_problem(os.environ.get("REDIS_URL"))
    if problem:
        pytest.exit(f"CCS_REQUIRE_SERVICES=1 but {problem}", returncode=3)


def need(problem: str | None) -> None:
    """Skip locally, fail in CI, when a real part a test needs is missing."""
    if problem is None:
        return
    if services_required():
        pytest.fail(f"required service missing: {problem}")
    pytest.skip(problem)


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    need(redis_problem(url))
    return url


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not shutil.which(CHROMIUM):
        need(f"{CHROMIUM} is missing (apt-get install chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    # Lets a test route (and so cut off) the service worker's own requests: Chromium's
    # offline emulation does not reach them (microsoft/playwright#2311).
    os.environ.setdefault("PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS", "1")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


# Runs in every page before its own scripts (Playwright injects it past the CSP): each
# Content-Security-Policy violation is logged to the console, where the fixture sees it.
_REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " blocked "
    + (event.blockedURI || "inline") + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


def watch_csp(context) -> list[str]:
    """Collect, in the returned list, every CSP violation on the context's pages."""
    violations: list[str] = []
    context.add_init_script(_REPORT_CSP_VIOLATIONS)

    def on_console(message) -> None:
        text = message.text
        if text.startswith("CSP violation:") or "Content Security Policy" in text:
            violations.append(f"{message.page.url if message.page else '?'}: {text}")

    context.on("console", on_console)
    return violations


def _csp_safe_wait_for_function(page, default_timeout_ms: float = 10_000):
    """page.wait_for_function that works under our CSP.

    Playwright's own polls with the page's eval(), which a policy without 'unsafe-eval'
    refuses (and reports as a violation). page.evaluate runs through the DevTools
    protocol, which the policy does not govern, so polling with it tests the same thing.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    def wait_for_function(expression, *, arg=None, timeout=None, polling=None):
        limit = (default_timeout_ms if timeout is None else timeout) / 1000
        interval = polling if isinstance(polling, (int, float)) else 50
        deadline = time.monotonic() + limit
        while True:
            try:
                value = page.evaluate(expression, arg)
            except PlaywrightError as exc:
                # A navigation in between: poll again in the new document, as Playwright's
                # own wait does.
                if "context was destroyed" not in str(exc):
                    raise
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise PlaywrightTimeoutError(f"waiting for {expression!r} timed out")
            page.wait_for_timeout(interval)

    return wait_for_function


def _use_csp_safe_wait(page) -> None:
    page.wait_for_function = _csp_safe_wait_for_function(page)


@pytest.fixture
def page(browser):
    """A browser page; the test fails at teardown if the CSP blocked anything on it."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    violations = watch_csp(context)
    # Every page of the context, including ones a test opens itself.
    context.on("page", _use_csp_safe_wait)
    page = context.new_page()
    page.set_default_timeout(10_000)
    _use_csp_safe_wait(page)
    yield page
    context.close()
    if violations:
        pytest.fail("Content-Security-Policy violations:\n" + "\n".join(violations))


@pytest.fixture
def login_in_browser(live_server):
    """Sign a browser page in through the real login form."""

    def _login(page, user, password="pw-for-tests-1"):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    return _login


# --- People -------------------------------------------------------------------------------
PASSWORD = "pw-for-tests-1"


STAFF_ROLES = {"Instructor": "instructor", "Program manager": "manager"}


def program(slug: str = "a"):
    """The test program `slug` (created on first use): "a" is the staff fixtures' own,
    "b" another program's."""
    from tenancy.models import Program

    return Program.objects.get_or_create(slug=slug, defaults={"name": f"Program {slug.upper()}"})[0]


def give_role(user, slug: str, role: str):
    """A program role (tenancy.ProgramStaff): "instructor" or "manager" in program `slug`."""
    from tenancy.models import ProgramStaff
    from tenancy.scoping import forget_roles

    ProgramStaff.objects.get_or_create(program=program(slug), user=user, role=role)
    forget_roles(user)
    return user


def make_user(
    django_user_model,
    username: str,
    role: str | None,
    *,
    staff: bool = False,
    program_slug: str | None = "a",
):
    """A person in a role; instructors and managers also hold that role in program
    `program_slug` (None: in no program)."""
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        username=username, password=PASSWORD, is_staff=staff, first_name=username.title()
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    if role in STAFF_ROLES and program_slug:
        give_role(user, program_slug, STAFF_ROLES[role])
    return user


@pytest.fixture
def candidate(django_user_model):
    return make_user(django_user_model, "cand", "Candidate")


@pytest.fixture
def other_candidate(django_user_model):
    return make_user(django_user_model, "cand2", "Candidate")


@pytest.fixture
def instructor(django_user_model):
    return make_user(django_user_model, "instr", "Instructor", staff=True)


@pytest.fixture
def reviewer(django_user_model):
    return make_user(django_user_model, "reviewer", "Instructor", staff=True)


@pytest.fixture
def manager(django_user_model):
    return make_user(django_user_model, "mgr", "Program manager")


@pytest.fixture
def manager_b(django_user_model):
    return make_user(django_user_model, "mgr-b", "Program manager", program_slug="b")
