"""`make register-search-attributes`: registers the project's search attributes on the
cluster named by TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (idempotent)."""

from __future__ import annotations

import asyncio

from core.config import get_settings
from core.process import exit_now
from core.temporal import connect, register_search_attributes


async def _main() -> int:
    settings = get_settings()
    client = await connect(settings)
    added = await register_search_attributes(client)
    where = f"{settings.effective_temporal_address}/{settings.temporal_namespace}"
    print(f"registered on {where}: {', '.join(added) if added else 'nothing new'}")
    return 0


if __name__ == "__main__":
    exit_now(asyncio.run(_main()))
