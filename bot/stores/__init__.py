"""Storage backends behind one interface (`bot.stores.base.Store`)."""
from __future__ import annotations

from bot.config import Settings
from bot.stores.base import Store
from bot.stores.memory import MemoryStore


def open_store(settings: Settings) -> Store:
    """The store the configuration asks for: Redis when REDIS_URL is set, else in-process."""
    if settings.redis_url:
        raise NotImplementedError("the Redis store arrives with the production issue; unset REDIS_URL")
    return MemoryStore(conversation_ttl_s=settings.conversation_ttl_s)
