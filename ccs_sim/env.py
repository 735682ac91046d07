"""Typed readers for environment variables.

Every reader raises ImproperlyConfigured naming the variable when a value is malformed,
so that a typo in a deployment fails at start instead of silently running with a default.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None else value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), got {raw!r}")


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {raw!r}")
    return value


def _env_number(name: str, default, convert, what: str, minimum):
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = convert(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be {what}, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    return _env_number(name, default, int, "an integer", minimum)


def env_float(name: str, default: float, *, minimum: float | None = None) -> float:
    return _env_number(name, default, float, "a number", minimum)


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_int_or_off(name: str, default: int | None, *, minimum: int = 0) -> int | None:
    """An integer, or None when the variable says "off", "none", "no" or "false" (any
    case). 0 is a number, not off: for DB_PREPARE_THRESHOLD it means prepare on first use."""
    raw = os.environ.get(name)
    if raw is not None and raw.strip().lower() in {"off", "none", "no", "false"}:
        return None
    return _env_number(name, default, int, "an integer or off", minimum)


def database_from_url(
    name: str, url: str, *, conn_max_age: int, prepare_threshold: int | None = None
) -> dict:
    """Django DATABASES entry for a postgres:// URL (psycopg 3).

    `prepare_threshold`: psycopg prepares a statement on the server after that many runs
    on a connection, so PostgreSQL plans it once per connection instead of on every run
    (planning the exam start's one query cost the database more than running it). It needs
    server-side binding; None keeps Django's default (client-side binding, nothing
    prepared), which a connection pooler in transaction mode requires."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise ImproperlyConfigured(
            f"{name} must be a postgres:// URL (or unset for SQLite), got scheme {parts.scheme!r}"
        )
    db_name = unquote(parts.path.lstrip("/"))
    if not db_name:
        raise ImproperlyConfigured(f"{name} must name a database, e.g. postgres://user@host/ccs")
    try:
        port = parts.port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port: {url!r}") from None
    options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    # A database that does not answer fails a request (and /healthz) within seconds
    # instead of holding a worker; the URL may set its own.
    options.setdefault("connect_timeout", "10")
    if prepare_threshold is not None:
        options["server_side_binding"] = True
        options["prepare_threshold"] = prepare_threshold
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": db_name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        # Persistent connections: without them a one-row write view ran about 8x slower.
        "CONN_MAX_AGE": conn_max_age,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": options,
    }


def redis_url(name: str, url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ImproperlyConfigured(f"{name} must be a redis:// URL, got {url!r}")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ImproperlyConfigured(f"{name} has a malformed port: {url!r}") from None
    return url
