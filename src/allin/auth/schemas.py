"""Request and response bodies of the auth, admin and profile endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from allin.auth.models import DEFAULT_KEY_SCOPES, KeyScope, Plan, Role, UserStatus
from allin.auth.passwords import MAX_LENGTH
from allin.core.schemas import StrictModel

# The policy (length >= 10, not common) is checked by the service, so the answer can be
# AUTH_006; the schema only bounds the size. Passwords are taken verbatim (no stripping).
NewPassword = Annotated[str, StringConstraints(strip_whitespace=False, max_length=MAX_LENGTH)]
Password = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=1, max_length=MAX_LENGTH)
]
DisplayName = Annotated[str, Field(min_length=1, max_length=100)]
Email = Annotated[EmailStr, Field(max_length=254)]
Token = Annotated[str, Field(min_length=1, max_length=256)]


class RegisterRequest(StrictModel):
    email: Email
    password: NewPassword
    display_name: DisplayName | None = None


class SetupRequest(RegisterRequest):
    pass


class EmailRequest(StrictModel):
    email: Email


class TokenRequest(StrictModel):
    token: Token


class LoginRequest(StrictModel):
    email: Email
    password: Password


class RefreshRequest(StrictModel):
    # The web client sends {"refreshToken": ...}; snake_case works too. Optional: the cookie.
    refresh_token: Token | None = Field(
        default=None, validation_alias=AliasChoices("refresh_token", "refreshToken")
    )


class ResetPasswordRequest(StrictModel):
    token: Token
    new_password: NewPassword = Field(
        validation_alias=AliasChoices("new_password", "newPassword", "password")
    )


class ChangePasswordRequest(StrictModel):
    current_password: Password = Field(
        validation_alias=AliasChoices("current_password", "currentPassword")
    )
    new_password: NewPassword = Field(validation_alias=AliasChoices("new_password", "newPassword"))


class UpdateMeRequest(StrictModel):
    display_name: DisplayName | None = None


class CreateApiKeyRequest(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    expires_at: datetime | None = None
    expires_in_days: Annotated[int, Field(ge=1, le=3650)] | None = None
    scopes: Annotated[
        list[KeyScope],
        Field(
            min_length=1,
            max_length=4,
            description="`sign` (the sign service), `read` (GET of your data), `publish`, "
            "`account` (other changes). Keys never manage sessions or keys.",
        ),
    ] = Field(default_factory=lambda: [KeyScope(s) for s in DEFAULT_KEY_SCOPES])


class AdminCreateUserRequest(StrictModel):
    email: Email
    password: NewPassword
    display_name: DisplayName | None = None
    role: Role = Role.USER
    active: bool = True


class AdminUpdateUserRequest(StrictModel):
    display_name: DisplayName | None = None
    role: Role | None = None
    plan: Plan | None = None
    status: UserStatus | None = None


# --- responses ---------------------------------------------------------------


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    display_name: str
    status: UserStatus
    role: Role
    plan: Plan
    email_verified_at: datetime | None
    last_login_at: datetime | None
    created_at: datetime


class RegisterOut(BaseModel):
    user: UserOut
    verification_required: bool
    message: str


class MessageOut(BaseModel):
    message: str


class TokensOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105
    expires_in: int
    expires_at: datetime
    refresh_token: str
    refresh_expires_in: int
    refresh_expires_at: datetime
    session_id: uuid.UUID
    user: UserOut


class SessionOut(BaseModel):
    id: uuid.UUID
    user_agent: str | None
    ip: str | None
    created_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool


class RevokedOut(BaseModel):
    revoked: int


class SetupStatusOut(BaseModel):
    needs_setup: bool
    email_backend: Literal["console", "smtp"]


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    scopes: list[KeyScope]
    status: Literal["active", "expired", "revoked"]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreatedOut(ApiKeyOut):
    key: str = Field(description="The full key. Shown only in this response: copy it now.")


class ApiKeySummary(BaseModel):
    total: int
    active: int


class AuthInfo(BaseModel):
    method: Literal["jwt", "api_key"]
    api_key: ApiKeyOut | None = None


class ProfileOut(BaseModel):
    user: UserOut
    auth: AuthInfo
    api_keys: ApiKeySummary
