"""``textual.work``, with the decorated method's signature kept for the type checker.

Textual types the decorator factory (``@work(group=..., exit_on_error=False)``) as
returning ``Decorator[..., R]``, which erases the method's parameters: every call of a
worker method would go unchecked. At run time this *is* ``textual.work``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine
    from typing import Any, ParamSpec, TypeVar, overload

    from textual.worker import Worker

    P = ParamSpec("P")
    R = TypeVar("R")

    @overload
    def work(
        method: Callable[P, Coroutine[Any, Any, R]], *, name: str = "", group: str = "default",
        exit_on_error: bool = True, exclusive: bool = False, description: str | None = None, thread: bool = False,
    ) -> Callable[P, Worker[R]]: ...

    @overload
    def work(
        *, name: str = "", group: str = "default", exit_on_error: bool = True, exclusive: bool = False,
        description: str | None = None, thread: bool = False,
    ) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Worker[R]]]: ...

    def work(*args: Any, **kwargs: Any) -> Any: ...
else:
    from textual import work

__all__ = ["work"]
