"""Module-level bindings for the `Registry.from_module` tests.

The expected registration order is `add_one` (imported first), `tokenize`,
`count`; `tokenize_again` binds the same task object a second time.
"""

from __future__ import annotations

from _tasks_for_pickling import add_one

from flowlite import task

__all__ = ["NOT_A_TASK", "add_one", "count_tokens", "strip_text", "tokenize", "tokenize_again"]


@task
def tokenize(text: str) -> list[str]:
    return text.split()


def strip_text(text: str) -> str:
    """A plain function, which from_module must skip."""
    return text.strip()


@task(name="count", outputs="token_count")
def count_tokens(tokenize: list[str]) -> int:
    return len(tokenize)


tokenize_again = tokenize

NOT_A_TASK = 3
