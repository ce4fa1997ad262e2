"""Storage backends behind one interface (`bot.stores.base.Store`)."""
from __future__ import annotations

import redis.exceptions

from bot.config import Settings
from bot.stores.base import Store
from bot.stores.memory import MemoryStore
from bot.stores.redis_store import RedisStore

# What a store raises while it is unreachable (down, restarting, loading its AOF): callers wait and
# retry, since nothing is wrong with the work itself.
STORE_OUTAGES: tuple[type[Exception], ...] = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class StoreUnavailable(RuntimeError):
    """The configured store cannot be reached; the message says what to check."""


def open_store(settings: Settings) -> Store:
    """The store the configuration asks for: Redis when REDIS_URL is set, else in-process."""
    if settings.redis_url:
        return RedisStore.from_url(settings.redis_url, conversation_ttl_s=settings.conversation_ttl_s)
    return MemoryStore(conversation_ttl_s=settings.conversation_ttl_s)


async def check_store(store: Store, settings: Settings) -> None:
    """Fail early and clearly when Redis is configured but unreachable."""
    if isinstance(store, RedisStore):
        try:
            await store.ping()
        except Exception as exc:  # noqa: BLE001 - any connection failure means the same to the operator
            where = settings.redis_url.split("@")[-1] if settings.redis_url else "?"
            raise StoreUnavailable(
                f"cannot reach Redis at {where} ({type(exc).__name__}); start it or fix REDIS_URL"
            ) from None
