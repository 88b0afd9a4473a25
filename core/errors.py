"""One family for the errors a service raises when a person must do something.

Every app's refusal (`OnboardingError`, `ReferralError`, `OutboxError`,
`InvitationInvalid`, `OperationError`, ...) is a `DomainError`: a message a
person can act on, a machine `code`, optionally the `field` at fault, and the
HTTP `status` it means. Views need not translate them: `core.http` turns an
uncaught one into JSON for API clients or a page for browsers, and
`core.graphql` into a GraphQL error with `extensions: {code, field}`.

The kinds (`NotFound`, `Forbidden`, `Conflict`, `Invalid`, `Unavailable`) let a
caller catch by meaning; an app's own class mixes in the kind it is.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_noop


class DomainError(Exception):
    """A refused request; nothing was saved.

    The positional `*args` after `message` are passed on untouched, so a class
    that is also a django `ValidationError` (message, code, params) keeps
    working: ValidationError's own attributes win where both define one."""

    status: int = 400
    # `str | None` only because django's ValidationError (mixed into some families)
    # types its own `code` so; a DomainError always has one (see error_code).
    code: str | None = "invalid"
    default_message: str = gettext_noop("The request was refused.")

    def __init__(
        self,
        message: Any = "",
        *args: Any,
        code: str | None = None,
        field: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, *args)
        if not isinstance(self, ValidationError):
            # ValidationError sets `message` itself, and only for a single message:
            # its list and dict forms must not have one (it tests hasattr).
            self.message = message
        if code is not None:
            self.code = code
        self.field = field
        if status is not None:
            self.status = status

    # --- what the mappings read: robust to ValidationError-based subclasses ---------

    def error_code(self) -> str:
        code = getattr(self, "code", None)
        return str(code or type(self).code or "invalid")

    def error_field(self) -> str:
        return str(getattr(self, "field", "") or "")

    def error_status(self) -> int:
        return int(getattr(self, "status", 0) or type(self).status)

    def error_message(self) -> str:
        messages = getattr(self, "messages", None)  # ValidationError: params applied
        if isinstance(messages, list) and messages:
            return " ".join(str(m) for m in messages)
        message = getattr(self, "message", "") or ""
        return str(message) or gettext(self.default_message)

    @property
    def extensions(self) -> dict[str, Any]:
        """graphql-core copies this onto the GraphQL error it wraps us in."""
        return {"code": self.error_code(), "field": self.error_field() or None}

    def as_json(self) -> dict[str, str | int]:
        """The JSON error body, the same shape as every other error the platform
        answers (`siaga112.error_pages`): `error` (the message), `code`, `status`,
        and `field` when one field is at fault. Flat on purpose: `error` and
        `field` are what PBX and console clients have read since the first API."""
        body: dict[str, str | int] = {"error": self.error_message(), "code": self.error_code(),
                                      "status": self.error_status()}
        field = self.error_field()
        if field:
            body["field"] = field
        return body


class Invalid(DomainError):
    """Bad input: the person can correct it and try again."""

    status = 400
    code: str | None = "invalid"


class NotFound(DomainError):
    """No such thing for this person (missing and forbidden may look the same)."""

    status = 404
    code: str | None = "not_found"
    default_message = gettext_noop("Not found.")


class Forbidden(DomainError):
    """This person may not do this."""

    status = 403
    code: str | None = "forbidden"
    default_message = gettext_noop("Your role may not do this.")


class Conflict(DomainError):
    """The state changed or the step is out of order: reload and try again."""

    status = 409
    code: str | None = "conflict"


class Unavailable(DomainError):
    """A dependency is down; trying later may work."""

    status = 503
    code: str | None = "unavailable"
    default_message = gettext_noop("The service is unavailable for a moment. Try again later.")
