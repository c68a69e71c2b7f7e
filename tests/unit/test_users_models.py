"""Validation of user bodies: e-mail syntax and case, password and name bounds, no extras."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.models.users import TokenRequest, UserCreate, UserUpdate, check_email

VALID = {"email": "Ada@Example.COM", "password": "s3cret-pass", "name": "  Ada Lovelace  "}


@pytest.mark.parametrize(
    "email",
    [
        "a@b.co",
        "first.last+tag@sub.example.org",
        "o'hara@example.ie",
        "x_y-z@a-b.example",
        "user@xn--bcher-kva.example",
        "user@example.xn--p1ai",
        f"{'a' * 64}@example.com",
    ],
)
def test_valid_addresses_are_accepted_and_lower_cased(email: str) -> None:
    assert check_email(email) == email.lower()


@pytest.mark.parametrize(
    "email",
    [
        "",
        "plainaddress",
        "@example.com",
        "user@",
        "user@localhost",
        "user@example",
        "user@example.c",
        "user@example.123",
        "user@-example.com",
        "user@example-.com",
        "user@exa_mple.com",
        "user@example..com",
        ".user@example.com",
        "user.@example.com",
        "us..er@example.com",
        "us er@example.com",
        '"quoted"@example.com',
        "user@@example.com",
        "usér@example.com",
        "user@exämple.com",
        "user\n@example.com",
        f"{'a' * 65}@example.com",
        f"user@{'a' * 64}.com",
        f"{'a' * 64}@{'b' * 63}.{'c' * 63}.{'d' * 63}.com",  # 260 characters
    ],
)
def test_invalid_addresses_are_refused(email: str) -> None:
    with pytest.raises(ValueError, match="not a valid e-mail"):
        check_email(email)


def test_registration_lower_cases_email_and_trims_name() -> None:
    body = UserCreate.model_validate(VALID)
    assert body.email == "ada@example.com"
    assert body.name == "Ada Lovelace"
    assert body.password == "s3cret-pass"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("password", "x" * 7),
        ("password", "x" * 129),
        ("name", ""),
        ("name", "   "),
        ("name", "n" * 101),
        ("name", "bad\x00name"),
        ("name", "line\nbreak"),
        ("email", "nope"),
        ("email", 42),
        ("password", None),
    ],
)
def test_out_of_bounds_fields_fail_validation(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        UserCreate.model_validate({**VALID, field: value})
    assert info.value.errors()[0]["loc"][0] == field


@pytest.mark.parametrize(
    ("field", "value"), [("password", "x" * 8), ("password", "x" * 128), ("name", "n" * 100)]
)
def test_bounds_are_inclusive(field: str, value: str) -> None:
    assert getattr(UserCreate.model_validate({**VALID, field: value}), field) == value


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        UserCreate.model_validate({**VALID, "role": "admin"})
    with pytest.raises(ValidationError):
        UserUpdate.model_validate({"nickname": "x"})


def test_update_accepts_only_known_roles() -> None:
    assert UserUpdate.model_validate({"role": "admin"}).role == "admin"
    with pytest.raises(ValidationError):
        UserUpdate.model_validate({"role": "root"})


def test_validation_errors_never_echo_the_password() -> None:
    secret = "short7!"
    with pytest.raises(ValidationError) as info:
        UserCreate.model_validate({**VALID, "password": secret})
    details = [{"loc": e["loc"], "msg": e["msg"]} for e in info.value.errors()]
    assert secret not in repr(details)


def test_login_email_is_normalised_but_not_syntax_checked() -> None:
    body = TokenRequest.model_validate({"email": "  Someone@Example.COM ", "password": "x"})
    assert body.email == "someone@example.com"
    assert TokenRequest.model_validate({"email": "not-an-address", "password": "x"}).email == "not-an-address"
