"""Users, API keys and access tokens.

Passwords are hashed with argon2id (argon2-cffi). API keys are 256 random bits, so a fast SHA-256 of
the secret is what is stored and looked up (a slow hash buys nothing against a random secret); the
secret is returned once, at creation. Access tokens are short-lived HS256 JWTs (PyJWT) naming the user;
the user is looked up on every request, so disabling a user takes effect at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from citeline.auth.principal import ROLES, SCOPES, Principal
from citeline.core.errors import BadRequestError, ConflictError, NotFoundError, UnauthorizedError
from citeline.core.ids import new_id
from citeline.storage.models import ApiKey, User

KEY_PREFIX = "cl_"
ALGORITHM = "HS256"
ROLE_SCOPES = {"admin": frozenset(SCOPES), "member": frozenset({"read", "write"})}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class AuthService:
    def __init__(self, jwt_secret: str, token_ttl_s: int) -> None:
        self._secret = jwt_secret
        self.token_ttl_s = token_ttl_s
        self._hasher = PasswordHasher()
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    # users
    def create_user(self, session: Session, username: str, password: str | None, role: str) -> User:
        if role not in ROLES:
            raise BadRequestError(f"Unknown role {role!r}; roles are {', '.join(ROLES)}.")
        if session.execute(select(User.id).where(User.username == username)).first() is not None:
            raise ConflictError(f"User {username!r} already exists.")
        hashed = self._hasher.hash(password) if password else None
        user = User(id=new_id(), username=username, password_hash=hashed, role=role)
        session.add(user)
        session.flush()
        return user

    def user_by_name(self, session: Session, username: str) -> User | None:
        return session.execute(select(User).where(User.username == username)).scalar_one_or_none()

    def check_password(self, session: Session, username: str, password: str) -> User:
        """The user, or 401; the same work is done whether or not the user exists."""
        user = self.user_by_name(session, username)
        stored = user.password_hash if user is not None and user.password_hash else self._dummy_hash
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            user = None
        if user is None or user.disabled or not user.password_hash:
            raise UnauthorizedError("Incorrect username or password.")
        return user

    # tokens
    def issue_token(self, user: User) -> str:
        now = datetime.now(UTC)
        claims = {
            "sub": user.id,
            "name": user.username,
            "scopes": sorted(ROLE_SCOPES[user.role]),
            "iat": now,
            "exp": now + timedelta(seconds=self.token_ttl_s),
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def principal_for_token(self, session: Session, token: str) -> Principal:
        try:
            claims: dict[str, Any] = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
            )
        except jwt.ExpiredSignatureError as exc:
            raise UnauthorizedError("The access token has expired.") from exc
        except jwt.InvalidTokenError as exc:
            raise UnauthorizedError("The access token is not valid.") from exc
        user = session.get(User, str(claims["sub"]))
        if user is None or user.disabled:
            raise UnauthorizedError("The access token's user no longer exists or is disabled.")
        scopes = frozenset(claims.get("scopes", ())) & ROLE_SCOPES[user.role]
        return Principal(username=user.username, role=user.role, scopes=scopes, user_id=user.id)

    # keys
    def create_key(
        self,
        session: Session,
        user: User,
        scopes: list[str],
        name: str = "",
        expires_at: datetime | None = None,
    ) -> tuple[ApiKey, str]:
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise BadRequestError(f"Scopes must be some of {', '.join(SCOPES)}; got {scopes!r}.")
        beyond = sorted(set(scopes) - ROLE_SCOPES[user.role])
        if beyond:
            raise BadRequestError(f"A {user.role} cannot hold the scope(s) {', '.join(beyond)}.")
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id=new_id()[:16],
            user_id=user.id,
            name=name,
            secret_sha256=digest(secret),
            scopes=sorted(set(scopes)),
            expires_at=expires_at,
        )
        session.add(key)
        session.flush()
        return key, secret

    def principal_for_key(self, session: Session, secret: str) -> Principal:
        found = session.execute(
            select(ApiKey, User)
            .join(User, User.id == ApiKey.user_id)
            .where(ApiKey.secret_sha256 == digest(secret))
        ).one_or_none()
        if found is None:
            raise UnauthorizedError("Unknown API key.")
        key, user = found
        if key.revoked_at is not None:
            raise UnauthorizedError("This API key has been revoked.")
        if key.expires_at is not None and _aware(key.expires_at) <= datetime.now(UTC):
            raise UnauthorizedError("This API key has expired.")
        if user.disabled:
            raise UnauthorizedError("This API key's user is disabled.")
        scopes = frozenset(key.scopes) & ROLE_SCOPES[user.role]
        return Principal(
            username=user.username, role=user.role, scopes=scopes, user_id=user.id, key_id=key.id
        )

    def revoke_key(self, session: Session, key_id: str, principal: Principal) -> ApiKey:
        key = session.get(ApiKey, key_id)
        if key is None or (key.user_id != principal.user_id and not principal.sees_everything):
            raise NotFoundError(f"API key {key_id!r} not found.")
        if key.revoked_at is None:
            key.revoked_at = datetime.now(UTC)
        return key
