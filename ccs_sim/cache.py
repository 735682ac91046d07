import functools
import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

_OUTAGE = (RedisConnectionError, RedisTimeoutError, OSError)

# What each operation answers when Redis is unreachable: the answer of an empty cache.
_ON_OUTAGE = {
    "get": lambda *a, **k: k.get("default", a[1] if len(a) > 1 else None),
    "get_many": lambda *a, **k: {},
    "has_key": lambda *a, **k: False,
    "set": lambda *a, **k: None,
    "set_many": lambda *a, **k: [],
    "add": lambda *a, **k: False,
    # A counter that cannot be read counts this one event: the answer add-then-incr gives
    # on an empty cache (a throttle is weaker during an outage, never a 500).
    "incr": lambda *a, **k: k.get("delta", a[1] if len(a) > 1 else 1),
    "touch": lambda *a, **k: False,
    "delete": lambda *a, **k: False,
    "delete_many": lambda *a, **k: None,
    "clear": lambda *a, **k: None,
}


def _tolerant(name, method):
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except _OUTAGE:
            logger.warning("cache unavailable on %s; answering as an empty cache", name)
            return _ON_OUTAGE[name](*args, **kwargs)

    return wrapper


class ResilientRedisCache(RedisCache):
    """Redis cache that treats an outage as an empty cache.

    Sessions are cached_db: when a read misses, Django reads the database. Answering
    "not there" on a connection error is what turns "Redis is down" into "slower" instead
    of "everybody is logged out" or "every page is a 500".
    """

    def ping(self) -> None:
        """Raise if Redis does not answer: /healthz must see the outage."""
        self._cache.get_client(write=True).ping()


for _name in _ON_OUTAGE:
    setattr(ResilientRedisCache, _name, _tolerant(_name, getattr(RedisCache, _name)))
