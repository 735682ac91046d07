"""Settings for the CCS exam simulator, read from the environment.

Defaults give the embedded set-up of `make run` (SQLite, local-memory cache, eager Celery);
DATABASE_URL and REDIS_URL switch to the real services. `.env.example` lists every variable.
"""

from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from ccs_sim.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_int_or_off,
    env_list,
    env_str,
    redis_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=True)

_DEV_SECRET = "dev-only-secret-key-not-for-production-use-0123456789abcdef"
SECRET_KEY = env_str("SECRET_KEY") or ""
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = _DEV_SECRET

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    "simple_history",
    "ccs_sim",
    "tenancy",
    "questionbank",
    "exams",
    "scoring",
    "itemanalysis",
    "cohorts",
    "codebook",
    "lti",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "ccs_sim.middleware.PermissionsPolicyMiddleware",
    # Before anything reads the body or parses parameters (ccs_sim/middleware.py).
    "ccs_sim.middleware.RequestBodyLimitMiddleware",
    "ccs_sim.middleware.MalformedRequestMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside sessions, CSRF and X-Frame-Options: sees the cookies they set and the header
    # it sets, and lets the LMS frame the pages of a launch (lti/embedding.py).
    "lti.embedding.LtiEmbeddingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The person's own time zone for every time shown (ccs_sim/time_zones.py).
    "ccs_sim.time_zones.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "ccs_sim.errors.ApplicationErrorMiddleware",
    "ccs_sim.errors.DatabaseUnavailableMiddleware",
    # Last: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
    # Names the signed-in user on audit records written during a request (one context
    # variable; no query).
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "ccs_sim.urls"
WSGI_APPLICATION = "ccs_sim.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ccs_sim.security.csp_nonce",
                "ccs_sim.chrome.page_chrome",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": database_from_url(
            "DATABASE_URL",
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 600, minimum=0),
            # Prepared statements (ccs_sim/env.py); "off" behind a transaction pooler.
            prepare_threshold=env_int_or_off("DB_PREPARE_THRESHOLD", 5),
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3"),
            "OPTIONS": {"timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, Celery ------------------------------------------------------------
REDIS_URL = redis_url("REDIS_URL", env_str("REDIS_URL"))
if REDIS_URL:
    CACHES = {
        "default": {
            # Logs and swallows connection errors so that a Redis outage degrades to
            # cache misses instead of failing every request.
            "BACKEND": "ccs_sim.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_RESULT_BACKEND = "cache+memory://"
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Late acknowledgement only where a task is idempotent (it says so itself); a message whose
# worker died comes back after the visibility timeout, which is above the longest task
# (an analysis run) and short enough that the work resumes within minutes.
CELERY_TASK_ACKS_LATE = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 1800, minimum=60),
    # A request never waits long on the broker: work is recorded in the database and the
    # message is only a hint to do it sooner (see scoring.receivers.hint_scoring).
    "socket_connect_timeout": 1,
    "socket_timeout": 2,
    # Publishing does not retry the connection (it cost 2 s a refused publish); a worker's
    # own reconnection follows broker_connection_max_retries instead.
    "max_retries": 0,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_TASK_PUBLISH_RETRY = False
# Nothing reads a task's return value from the result store: every task records its work in
# the database. Ignoring results also keeps a publish from subscribing to the result store,
# which retried for about 20 s when Redis was down and held the request with it.
CELERY_TASK_IGNORE_RESULT = True
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 1
CELERY_REDIS_SOCKET_TIMEOUT = 2
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 2}
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TRACK_STARTED = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Without a broker there is no beat: the web process runs the schedule itself
# (ccs_sim.scheduler), so the embedded default finalises and scores like production.
CCS_INPROCESS_BEAT = env_bool("CCS_INPROCESS_BEAT", default=not REDIS_URL)
# In the order the in-process scheduler runs them: expiry before the scoring sweep, so an
# attempt that expires in one pass is scored in the same pass.
CELERY_BEAT_SCHEDULE: dict = {
    # Finalises attempts whose browser never came back after the deadline.
    "exams-expire-overdue-attempts": {
        "task": "exams.tasks.expire_overdue_attempts",
        "schedule": env_float("CCS_EXPIRE_SWEEP_SECONDS", 60.0, minimum=1.0),
    },
    # Scores every finalised attempt still without a score (a lost hint, a worker that
    # died): what makes a score certain to appear.
    "scoring-score-pending": {
        "task": "scoring.tasks.score_pending",
        "schedule": env_float("CCS_SCORE_SWEEP_SECONDS", 30.0, minimum=1.0),
    },
    # Posts scores owed to LMS line items (LTI grade passback) and retries failures.
    "lti-post-pending-grades": {
        "task": "lti.tasks.post_pending_grades",
        "schedule": env_float("CCS_LTI_GRADE_SWEEP_SECONDS", 60.0, minimum=1.0),
    },
    # Forgets the nonces of launches whose tokens are past CCS_LTI_ID_TOKEN_MAX_AGE (a
    # replay of such a token is refused for its age).
    "lti-forget-used-nonces": {
        "task": "lti.tasks.forget_used_nonces",
        "schedule": env_float("CCS_LTI_NONCE_SWEEP_SECONDS", 900.0, minimum=1.0),
    },
    # Lets /healthz tell that a worker is taking tasks.
    "health-heartbeat": {
        "task": "ccs_sim.tasks.heartbeat",
        "schedule": env_float("CCS_HEARTBEAT_SECONDS", 20.0, minimum=1.0),
    },
    # Runs analyses whose request message was lost.
    "itemanalysis-run-queued": {"task": "itemanalysis.tasks.run_queued", "schedule": 300.0},
    # A new conversion table version rescores its form at once (a task queued after
    # commit); this finds results a lost message left on an older version.
    "scoring-rescore-stale-results": {
        "task": "scoring.tasks.rescore_stale_results",
        "schedule": 300.0,
    },
    # Item analysis for instructors: classical statistics, the bank-wide Rasch calibration,
    # then the anchored calibration of pretest items (which needs the fresh anchors).
    "itemanalysis-nightly-item-analysis": {
        "task": "itemanalysis.tasks.nightly_item_analysis",
        "schedule": crontab(hour=2, minute=30),
    },
}

# Sessions live in the database and are cached in Redis: reads come from the cache, and
# when Redis is down they fall back to the database, so nobody is logged out.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12, minimum=60)

# --- Auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # Refuses locked-out sign-ins before the password is checked; signs nobody in itself.
    "ccs_sim.security.LockoutBackend",
    # Signs people in and loads the user of each request (by a statement built once).
    "common.accounts.AccountBackend",
    # Only for sessions signed in before AccountBackend existed (common/accounts.py).
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
# Lockout (django-axes, ccs_sim/security.py): after CCS_LOGIN_FAILURE_LIMIT failed
# sign-ins in a row for one account, or from one address, both login pages refuse it for
# CCS_LOGIN_COOLOFF_MINUTES. Counts live in the database, so they survive a Redis outage.
# django-axes keeps its records in the database; its admin pages (every account's failed
# sign-ins and addresses) are left out: the operator reads them with `manage.py
# axes_list_attempts` and lifts a lock with `axes_reset_username`.
AXES_ENABLE_ADMIN = False
AXES_FAILURE_LIMIT = env_int("CCS_LOGIN_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CCS_LOGIN_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "ccs_sim.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "ccs_sim.security.client_ip"
AXES_HTTP_RESPONSE_CODE = 429
# A try during the lockout does not push its end further: the page can say when it ends.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# ccs_sim.security.reset_failures_on_login clears the account's own failures instead.
AXES_RESET_ON_SUCCESS = False
AXES_VERBOSE = False
# Proxies in front of the app whose X-Forwarded-For entries are trusted (0: none).
CCS_TRUSTED_PROXIES = env_int("CCS_TRUSTED_PROXIES", 0, minimum=0)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# --- Request limits (ccs_sim/middleware.py) --------------------------------------------------
# A body above the cap is answered 413 from its Content-Length, before it is read. The bank
# import has its own cap above the import form's 20 MB, so the form's message comes first.
CCS_MAX_REQUEST_BYTES = env_int("CCS_MAX_REQUEST_BYTES", 5 * 1024 * 1024, minimum=1024)
CCS_REQUEST_BODY_LIMITS = {
    "admin:questionbank_itemversion_import": env_int(
        "CCS_MAX_IMPORT_BYTES", 25 * 1024 * 1024, minimum=1024
    ),
}
# Longer query strings are refused with 400 (no page needs more).
CCS_MAX_QUERY_STRING = env_int("CCS_MAX_QUERY_STRING", 4096, minimum=256)
# Django's own limits on what it parses into memory (form fields; files above this size
# go to a temporary file).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

# --- Content-Security-Policy (django-csp) and Permissions-Policy ------------------------------
# Scripts and styles come from our own origin only (scripts also carry a nonce); no inline
# script, event handler or style attribute runs. Permissions-Policy: ccs_sim/middleware.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

# --- LTI 1.3 (lti/) ---------------------------------------------------------------------------
# An id_token issued longer ago than this is refused; the nonces of accepted launches are
# kept this long (plus a minute of clock skew) and then forgotten by the beat, so a replay
# is refused either as a used nonce or for its age.
CCS_LTI_ID_TOKEN_MAX_AGE = env_int("CCS_LTI_ID_TOKEN_MAX_AGE", 3600, minimum=60)
# LMSs open the tool in an iframe, where the browser sends only SameSite=None cookies.
# "https" (default): the cookies of the launch flow and of sessions begun by a launch go
# SameSite=None; Secure on requests that came over HTTPS (directly or through
# SECURE_PROXY_SSL_HEADER); plain HTTP keeps Lax, which browsers require without Secure.
# "always": also on plain HTTP (development on localhost, where browsers accept Secure).
# "off": the session and CSRF cookies stay Lax; a launch then works only from an LMS on
# the same site (the id_token is posted across sites, which sends no Lax cookie).
# Ordinary sign-ins keep Lax either way.
CCS_LTI_CROSS_SITE_COOKIES = env_choice(
    "CCS_LTI_CROSS_SITE_COOKIES", "https", ("https", "always", "off")
)

# --- i18n, static -------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE") or "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "ccs_sim.storage.StaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Mail -------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST") or ""
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER") or ""
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD") or ""
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "ccs-sim@localhost"

# --- Production hardening -----------------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
# /healthz is probed over plain HTTP by the container's health check.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

# --- The product ----------------------------------------------------------------------------
# When a new calibration changes a form's equated conversion table (a new version): True
# rescores every scored attempt on the form with it (each earlier result kept in its
# history, a note on the candidate's report); False lets the new table score only attempts
# scored from then on, the earlier results standing as they were issued. A cut set by hand
# always rescores: it is a decision about the standard itself.
CCS_RESCORE_AFTER_CALIBRATION = env_bool("CCS_RESCORE_AFTER_CALIBRATION", default=True)
# A program's own form takes its cut from an Angoff panel of at least this many judges, so
# no one person sets a cut (a later change needs a second person too: cut proposals). The
# shared forms are the operator's, whose panel the bank's import records as one judge.
CCS_MIN_ANGOFF_JUDGES = env_int("CCS_MIN_ANGOFF_JUDGES", 2, minimum=1)
# Seconds after the deadline during which a save already in flight is still accepted.
CCS_SAVE_GRACE_SECONDS = env_float("CCS_SAVE_GRACE_SECONDS", 5.0, minimum=0)
# When item analysis flags an item for review (psychometrics/flags.py says each rule in
# words), and which flags stop a pretest item from being promoted.
CCS_ITEM_FLAGS = {
    "too_easy_p": 0.95,
    "too_hard_p": 0.25,
    "min_item_rest": 0.10,
    "fit_low": 0.7,
    "fit_high": 1.3,
    "min_responses": 100,
    "blocking": [
        "too_easy",
        "too_hard",
        "negative_discrimination",
        "distractor_upper",
        "poor_fit",
        "too_few_responses",
    ],
}

# JSON lines in production (one object per line for a log shipper), key=value in
# development; lifecycle events carry their ids and durations either way (common.lifecycle).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "common.lifecycle.JsonLinesFormatter"},
        "plain": {"()": "common.lifecycle.KeyValueFormatter"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain" if DEBUG else "json"}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
