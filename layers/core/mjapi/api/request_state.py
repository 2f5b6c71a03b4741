"""The request being resolved, per thread.

Powertools keeps it where every thread of a process sees it: the event and Lambda context on the ``BaseRouter`` class
(``BaseRouter.current_event = ...`` in ``resolve``), the routing context (matched route, path arguments, the cached
``Request``) and the debug stack frames on the resolver. One request per process at a time, as on Lambda, is fine;
the offline stack resolves several at once in one process, and they would read each other's events. These properties
(data descriptors, so they win over the class attribute) keep all of it per thread instead.

The state is module-wide, not per resolver: the route modules' ``Router`` objects are module singletons that
delegate to whichever resolver included them last, and the offline stack builds one resolver per "container".
A thread resolves one request at a time, so one slot per thread is enough.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext


class _ThreadRequest(threading.local):
    def __init__(self) -> None:
        self.event: APIGatewayProxyEvent | None = None
        self.lambda_context: LambdaContext | None = None
        self.context: dict[str, Any] = {}
        self.frames: list[str] = []


_current = _ThreadRequest()


class ThreadSafeRestResolver(APIGatewayRestResolver):
    """A Powertools REST resolver whose request state is per thread."""

    @contextmanager
    def request_scope(self, event: APIGatewayProxyEvent, lambda_context: LambdaContext) -> Iterator[None]:
        """Publish ``event`` to this thread for the duration of its resolution."""
        _current.event, _current.lambda_context = event, lambda_context
        try:
            yield
        finally:
            _current.event = _current.lambda_context = None
            _current.context = {}
            _current.frames = []

    @property
    def current_event(self) -> APIGatewayProxyEvent:
        if _current.event is None:
            raise RuntimeError("no request is being resolved in this thread")
        return _current.event

    @current_event.setter
    def current_event(self, value: BaseProxyEvent) -> None:
        _current.event = cast(APIGatewayProxyEvent, value)

    @property
    def lambda_context(self) -> LambdaContext:
        if _current.lambda_context is None:
            raise RuntimeError("no request is being resolved in this thread")
        return _current.lambda_context

    @lambda_context.setter
    def lambda_context(self, value: LambdaContext) -> None:
        _current.lambda_context = value

    @property
    def context(self) -> dict[str, Any]:
        return _current.context

    @context.setter
    def context(self, value: dict[str, Any]) -> None:
        _current.context = value

    @property
    def processed_stack_frames(self) -> list[str]:
        return _current.frames

    @processed_stack_frames.setter
    def processed_stack_frames(self, value: list[str]) -> None:
        _current.frames = value
