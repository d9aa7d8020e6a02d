"""Module-level async tasks, importable by process-pool workers."""

from __future__ import annotations

import asyncio

from flowlite import task


@task(inputs=["number"], outputs="doubled")
async def double_later(number: int) -> int:
    await asyncio.sleep(0.01)
    return number * 2
