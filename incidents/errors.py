"""The one error type services raise for a request a person can fix."""

from __future__ import annotations


class OperationError(Exception):
    """Refused input or state change. `status` is the HTTP status the views answer
    with (400 bad input, 404 unknown id, 409 conflict/out of order); `field` names
    the offending input where there is one."""

    def __init__(self, message: str, *, field: str = "", status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status

    def as_json(self) -> dict[str, str]:
        body = {"error": self.message}
        if self.field:
            body["field"] = self.field
        return body
