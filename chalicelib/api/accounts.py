"""/auth/password-reset, /auth/password-reset/confirm, /auth/verify-email and
/auth/verify-email/resend: account recovery by mail (docs/accounts.md).

Every answer here is `no-store` (api/caching.py stores nothing it was not told to).
"""

from __future__ import annotations

from chalice.app import Response

from chalicelib.api.auth import caller, jwt_auth
from chalicelib.api.deps import get_hasher, get_mailer, get_table
from chalicelib.api.http import ApiBlueprint, json_response, no_content, parse_body
from chalicelib.config import get_settings
from chalicelib.models.accounts import (
    AcceptedPublic,
    PasswordResetConfirm,
    PasswordResetRequest,
    VerifyEmailRequest,
)
from chalicelib.services import accounts

bp = ApiBlueprint(__name__, tag="auth")

# The 202 bodies' messages (models are built on first use, never at import)
RESET_ACCEPTED = "If this address is registered, a mail with a reset token is on its way"
RESEND_ACCEPTED = "If your address is not verified yet, a new mail is on its way"


def mail_context() -> accounts.MailContext:
    """The stage's mailer and settings, for the use cases that send mail."""
    settings = get_settings()
    pace = accounts.Pace(floor_seconds=settings.mail.reset_floor_seconds)
    return accounts.MailContext(mailer=get_mailer(), settings=settings, pace=pace)


@bp.operation(
    "POST",
    "/auth/password-reset",
    "Mail a single-use password-reset token (the same answer for any address)",
    202,
    body=PasswordResetRequest,
    response=AcceptedPublic,
    errors=(400,),
)
def request_password_reset() -> Response:
    """Mail a reset token to a registered address (public; 202 whatever the address)."""
    body = parse_body(bp.current_request, PasswordResetRequest)
    accounts.request_password_reset(get_table(), body, mail_context())
    return json_response(AcceptedPublic(message=RESET_ACCEPTED), 202)


@bp.operation(
    "POST",
    "/auth/password-reset/confirm",
    "Set a new password with a reset token; ends every session",
    204,
    body=PasswordResetConfirm,
    errors=(400, 401),
)
def confirm_password_reset() -> Response:
    """Spend a reset token for a new password (public)."""
    body = parse_body(bp.current_request, PasswordResetConfirm)
    accounts.confirm_password_reset(get_table(), body, get_hasher())
    return no_content()


@bp.operation(
    "POST",
    "/auth/verify-email",
    "Verify the e-mail address with a mailed token",
    204,
    body=VerifyEmailRequest,
    errors=(400, 401),
)
def verify_email() -> Response:
    """Spend a verification token: the user's address is verified (public)."""
    body = parse_body(bp.current_request, VerifyEmailRequest)
    accounts.verify_email(get_table(), body)
    return no_content()


@bp.operation(
    "POST",
    "/auth/verify-email/resend",
    "Mail the caller a new verification token",
    202,
    response=AcceptedPublic,
    auth=jwt_auth,
    errors=(401, 503),
)
def resend_verification() -> Response:
    """Mail a new verification token to the caller (at most 3 an hour)."""
    accounts.resend_verification(get_table(), caller(bp.current_request), mail_context())
    return json_response(AcceptedPublic(message=RESEND_ACCEPTED), 202)
