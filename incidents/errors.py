"""The one error type services raise for a request a person can fix."""

from __future__ import annotations

from core.errors import DomainError

_CODE_FOR_STATUS = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    503: "unavailable",
}


class OperationError(DomainError):
    """Refused input or state change. `status` is the HTTP status the views answer
    with (400 bad input, 404 unknown id, 409 conflict/out of order); `field` names
    the offending input where there is one. The machine `code` follows the status
    unless given."""

    def __init__(
        self, message: str, *, field: str = "", status: int = 400, code: str | None = None
    ) -> None:
        code = code or _CODE_FOR_STATUS.get(status, "invalid")
        super().__init__(message, field=field, status=status, code=code)
