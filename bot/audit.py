"""The append-only audit log: who did what to which case, and when; never what anyone wrote.

Every console view, reply, note, export, claim, release, hand-back and close, every login and every
API read is recorded. Entries hold the actor's username and role, the action, the case id and a few
short facts (an outcome, a status filter, a count); message text, notes and personal data never
go in. The store keeps the log without expiry and offers no way to change or delete an entry.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Optional, Union

from bot.stores.base import Store

log = logging.getLogger(__name__)

# The only details an entry may carry besides actor, action and case: none of them is free text.
DETAIL_KEYS = frozenset({"outcome", "status", "count", "target", "target_role", "result", "reason", "level"})
MAX_DETAIL_CHARS = 64

Scalar = Union[str, int, float, bool, None]


def _now() -> str:
    """Current time, ISO 8601 UTC with seconds."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class AuditLog:
    """Writes and reads the audit trail through the store's permanent, append-only list."""

    def __init__(self, store: Store):
        self.store = store

    async def record(self, actor: str, role: str, action: str, case: Optional[str] = None,
                     **details: Scalar) -> dict[str, Any]:
        """Append one entry; details outside DETAIL_KEYS are refused so no text can slip in."""
        unknown = set(details) - DETAIL_KEYS
        if unknown:
            raise ValueError(f"audit details must be short facts, not {sorted(unknown)}")
        entry: dict[str, Any] = {"at": _now(), "actor": actor, "role": role, "action": action, "case": case}
        for key, value in details.items():
            if value is None:
                continue
            entry[key] = value[:MAX_DETAIL_CHARS] if isinstance(value, str) else value
        await self.store.audit_append(entry)
        log.info("audit: %s (%s) %s%s", actor, role, action, f" case {case}" if case else "")
        return entry

    async def entries(self, limit: int = 200) -> list[dict[str, Any]]:
        """The newest entries, newest first."""
        return await self.store.audit_list(limit)
