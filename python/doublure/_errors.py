"""The exceptions doublure's Python client raises."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence


class DoublureError(Exception):
    """Anything that went wrong talking to, or starting, a doublure server."""


class StartError(DoublureError):
    """The doublure binary could not be found, or did not start.

    ``output`` holds what the process wrote (its standard error first), so the
    reason -- a bad flag, an invalid fixture directory, a port in use -- is in
    the message.
    """

    def __init__(self, message: str, *, returncode: Optional[int] = None, output: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.output = output


class UnhealthyError(DoublureError):
    """A server did not answer its health check; ``url`` is the one asked."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class ControlPlaneError(DoublureError):
    """The control plane refused a call: ``status`` and its ``message``.

    ``problems`` lists what fixture validation found wrong (file, item,
    field) when a data change was refused, and is empty otherwise. ``body``
    is the decoded JSON answer, or None when the answer was not JSON.
    """

    def __init__(
        self,
        *,
        method: str,
        url: str,
        status: int,
        message: str,
        problems: Sequence[str] = (),
        body: Any = None,
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.message = message
        self.problems: List[str] = list(problems)
        self.body = body
        text = f"{method} {url} answered {status}: {message}"
        if self.problems:
            text += "\n" + "\n".join("  " + p for p in self.problems)
        super().__init__(text)
