"""Domain errors. They say what went wrong; api/errors.py decides what HTTP makes of it."""

from __future__ import annotations

from typing import Any


class StorefrontError(Exception):
    """Base of every error the service raises on purpose."""

    message = "Request failed"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class InvalidJsonError(StorefrontError):
    message = "Request body is not valid JSON"


class ValidationFailedError(StorefrontError):
    """Input failed validation; details name each location."""

    message = "Request validation failed"

    def __init__(self, details: list[dict[str, Any]], message: str | None = None) -> None:
        super().__init__(message)
        self.details = details


class InvalidCursorError(StorefrontError):
    message = "Invalid pagination cursor"


class UnauthorizedError(StorefrontError):
    message = "Authentication required"


class InvalidCredentialsError(UnauthorizedError):
    message = "Invalid e-mail or password"


class ForbiddenError(StorefrontError):
    message = "You are not allowed to do this"


class NotFoundError(StorefrontError):
    message = "Resource not found"


class ConflictError(StorefrontError):
    message = "Conflict with the current state"


class UserNotFoundError(NotFoundError):
    message = "User not found"


class ProductNotFoundError(NotFoundError):
    message = "Product not found"


class OrderNotFoundError(NotFoundError):
    message = "Order not found"


class WebhookNotFoundError(NotFoundError):
    message = "Webhook subscription not found"


class WebhookLimitError(ConflictError):
    """The caller has as many webhook subscriptions as one user may have."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Subscription limit reached: at most {limit} webhook subscriptions per user")
        self.limit = limit


class EmailTakenError(ConflictError):
    message = "This e-mail address is already registered"


class InsufficientStockError(StorefrontError):
    message = "Insufficient stock"

    def __init__(self, details: list[dict[str, Any]], message: str | None = None) -> None:
        super().__init__(message)
        self.details = details


class PreconditionFailedError(StorefrontError):
    message = "The resource has changed (If-Match does not match)"


class PayloadTooLargeError(StorefrontError):
    message = "Request body is too large"


class UnsupportedMediaTypeError(StorefrontError):
    message = "Request body must be application/json"


class RateLimitedError(StorefrontError):
    message = "Too many attempts, try again later"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailableError(StorefrontError):
    """The database is throttling or cannot be reached."""

    message = "Service temporarily unavailable"

    def __init__(self, retry_after: int = 1, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class InvalidRefreshTokenError(UnauthorizedError):
    """Unknown, expired, ended, spent or malformed refresh token (deliberately one answer)."""

    message = "Invalid or expired refresh token"


class SessionEndedError(UnauthorizedError):
    """The caller's session has ended, or its user no longer exists."""

    message = "This session has ended or its account no longer exists"


class OrderStateError(ConflictError):
    """A transition asked of an order in a status it cannot leave that way."""

    def __init__(self, status: str, action: str) -> None:
        super().__init__(f"Cannot {action} an order that is {status}")
        self.status = status


class InvalidWebhookSignatureError(UnauthorizedError):
    """A payment webhook without a valid Standard Webhooks signature (or a stale timestamp)."""

    message = "Invalid webhook signature"


class PaymentMismatchError(StorefrontError):
    """A payment whose amount or currency is not the order's."""

    message = "Payment amount or currency does not match the order"


class InvalidAccountTokenError(UnauthorizedError):
    """Unknown, used, expired or malformed password-reset or verification token (one answer)."""

    message = "Invalid or expired token"


class EmailUnverifiedError(ForbiddenError):
    """The caller's e-mail address must be verified first (REQUIRE_VERIFIED_EMAIL)."""

    message = "Verify your e-mail address first"


class MailUnavailableError(ServiceUnavailableError):
    """The mail could not be sent (the mail service throttled or failed); retry later."""

    message = "The mail could not be sent, try again later"


def unavailable_cause(exc: ServiceUnavailableError) -> str:
    """The DynamoDB error code (or connection error class) behind a 503, for the log."""
    cause = exc.__cause__
    if cause is None:
        return "retries_exhausted"  # our own retry loop gave up (contention)
    response = getattr(cause, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return str(code or type(cause).__name__)
