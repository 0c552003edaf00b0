"""/api/v1/auth/token, /keys, /users, /collections (+ grants) and /audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, Field
from sqlalchemy import select

from citeline.auth import audit
from citeline.auth.access import (
    can_read,
    can_write,
    manages,
    readable_collection_ids,
    writable_collection,
)
from citeline.auth.dependencies import Admin, PrincipalDep, Reader, Writer
from citeline.auth.principal import ROLES, SCOPES, Principal
from citeline.auth.service import AuthService
from citeline.core.errors import (
    BadRequestError,
    CollectionNotFoundError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
)
from citeline.services import Services, ServicesDep
from citeline.storage.models import ApiKey, AuditEvent, Collection, Grant, User

router = APIRouter(tags=["auth"])
Name = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.@-]+$")]


def _auth(services: Services) -> AuthService:
    if services.auth is None:
        raise BadRequestError("Auth is off (CITELINE_AUTH=off): there are no users, keys or tokens.")
    return services.auth


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


@router.post("/auth/token", response_model=Token)
def issue_token(form: Annotated[OAuth2PasswordRequestForm, Depends()], services: ServicesDep) -> Token:
    """OAuth2 password flow: a short-lived access token (JWT) for a user's name and password."""
    auth = _auth(services)
    with services.db.transaction() as session:
        user = auth.check_password(session, form.username, form.password)
        audit.record(session, _as_principal(user), "token.issue", user.username)
        return Token(access_token=auth.issue_token(user), expires_in=auth.token_ttl_s)


class Me(BaseModel):
    username: str
    role: str
    scopes: list[str]
    key_id: str | None


@router.get("/auth/me", response_model=Me)
def me(principal: PrincipalDep) -> Me:
    return Me(
        username=principal.username,
        role=principal.role,
        scopes=sorted(principal.scopes),
        key_id=principal.key_id,
    )


# -- API keys ---------------------------------------------------------------------------------------
class KeyCreate(BaseModel):
    name: str = Field(default="", max_length=200)
    scopes: list[Literal["read", "write", "admin"]] = Field(min_length=1)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    username: Name | None = Field(default=None, description="Admins may create keys for another user.")


class KeyOut(BaseModel):
    id: str
    name: str
    username: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str = Field(description="The secret: shown this once, stored only as a hash.")


def _key_out(key: ApiKey, username: str) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "username": username,
        "scopes": list(key.scopes),
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
    }


@router.post("/keys", response_model=KeyCreated, status_code=201)
def create_key(body: KeyCreate, services: ServicesDep, principal: Writer) -> KeyCreated:
    """A new API key for yourself (admins: for any user). Its scopes cannot exceed the caller's."""
    auth = _auth(services)
    beyond = sorted(set(body.scopes) - principal.scopes)
    if beyond:
        raise ForbiddenError(f"You cannot give a key scopes you do not hold: {', '.join(beyond)}.")
    with services.db.transaction() as session:
        username = body.username or principal.username
        if username != principal.username and not principal.sees_everything:
            raise ForbiddenError("Only admins create keys for other users.")
        user = auth.user_by_name(session, username)
        if user is None:
            raise NotFoundError(f"User {username!r} not found.")
        expires = datetime.now(UTC) + timedelta(days=body.expires_in_days) if body.expires_in_days else None
        key, secret = auth.create_key(session, user, list(body.scopes), body.name, expires)
        audit.record(session, principal, "key.create", key.id, username=username, scopes=list(key.scopes))
        return KeyCreated(**_key_out(key, username), key=secret)


@router.get("/keys", response_model=list[KeyOut])
def list_keys(services: ServicesDep, principal: Reader) -> list[KeyOut]:
    """Your keys (admins: everyone's), without their secrets."""
    _auth(services)
    with services.db.read() as session:
        query = (
            select(ApiKey, User.username).join(User, User.id == ApiKey.user_id).order_by(ApiKey.created_at)
        )
        if not principal.sees_everything:
            query = query.where(ApiKey.user_id == principal.user_id)
        return [KeyOut(**_key_out(key, username)) for key, username in session.execute(query).all()]


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: str, services: ServicesDep, principal: Writer) -> Response:
    """Revoke a key at once: its next request is a 401."""
    auth = _auth(services)
    with services.db.transaction() as session:
        auth.revoke_key(session, key_id, principal)
        audit.record(session, principal, "key.revoke", key_id)
    return Response(status_code=204)


# -- users ------------------------------------------------------------------------------------------
class UserCreate(BaseModel):
    username: Name
    password: str | None = Field(default=None, min_length=8, max_length=500)
    role: Literal["admin", "member"] = "member"


class UserOut(BaseModel):
    id: str
    username: str
    role: str
    disabled: bool
    created_at: datetime


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserCreate, services: ServicesDep, principal: Admin) -> UserOut:
    auth = _auth(services)
    with services.db.transaction() as session:
        user = auth.create_user(session, body.username, body.password, body.role)
        audit.record(session, principal, "user.create", user.username, role=user.role)
        return UserOut.model_validate(user, from_attributes=True)


@router.get("/users", response_model=list[UserOut])
def list_users(services: ServicesDep, principal: Admin) -> list[UserOut]:
    _auth(services)
    with services.db.read() as session:
        users = session.execute(select(User).order_by(User.username)).scalars()
        return [UserOut.model_validate(user, from_attributes=True) for user in users]


# -- collections and grants -------------------------------------------------------------------------
class CollectionCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class GrantIn(BaseModel):
    principal: str = Field(pattern=r"^(user|key):[^\s]{1,200}$", description='"user:<name>" or "key:<id>"')
    permission: Literal["read", "write"]


class GrantOut(GrantIn):
    pass


class CollectionOut(BaseModel):
    name: str
    owner: str | None
    can_write: bool
    grants: list[GrantOut] | None = Field(description="Shown to the owner and admins.")
    created_at: datetime


def _collection_out(session: Any, collection: Collection, principal: Principal) -> CollectionOut:
    owner = session.get(User, collection.owner_id) if collection.owner_id else None
    grants = None
    if manages(principal, collection):
        rows = session.execute(select(Grant).where(Grant.collection_id == collection.id).order_by(Grant.id))
        grants = [GrantOut.model_validate(g, from_attributes=True) for g in rows.scalars()]
    return CollectionOut(
        name=collection.name,
        owner=owner.username if owner else None,
        can_write=can_write(session, principal, collection),
        grants=grants,
        created_at=collection.created_at,
    )


@router.get("/collections", response_model=list[CollectionOut])
def list_collections(services: ServicesDep, principal: Reader) -> list[CollectionOut]:
    """The collections you may read."""
    with services.db.read() as session:
        query = select(Collection).order_by(Collection.name)
        readable = readable_collection_ids(session, principal)
        if readable is not None:
            query = query.where(Collection.id.in_(sorted(readable)))
        return [_collection_out(session, c, principal) for c in session.execute(query).scalars()]


@router.post("/collections", response_model=CollectionOut, status_code=201)
def create_collection(body: CollectionCreate, services: ServicesDep, principal: Writer) -> CollectionOut:
    """A new collection owned by you (names are unique across the service)."""
    with services.db.transaction() as session:
        if session.execute(select(Collection.id).where(Collection.name == body.name)).first():
            raise ConflictError(f"Collection name {body.name!r} is taken.")
        collection = writable_collection(session, principal, body.name)
        audit.record(session, principal, "collection.create", body.name)
        return _collection_out(session, collection, principal)


def _managed(session: Any, name: str, principal: Principal) -> Collection:
    collection = session.execute(select(Collection).where(Collection.name == name)).scalar_one_or_none()
    if collection is None or not can_read(session, principal, collection.id):
        raise CollectionNotFoundError(f"Collection {name!r} not found")
    if not manages(principal, collection):
        raise ForbiddenError("Only the collection's owner and admins manage its grants.")
    return collection  # type: ignore[no-any-return]


@router.put("/collections/{name}/grants", response_model=CollectionOut)
def put_grant(name: str, body: GrantIn, services: ServicesDep, principal: Writer) -> CollectionOut:
    """Give a user or a key read or write access to the collection (replaces an earlier grant)."""
    with services.db.transaction() as session:
        collection = _managed(session, name, principal)
        existing = session.execute(
            select(Grant).where(Grant.collection_id == collection.id, Grant.principal == body.principal)
        ).scalar_one_or_none()
        if existing is None:
            session.add(
                Grant(collection_id=collection.id, principal=body.principal, permission=body.permission)
            )
        else:
            existing.permission = body.permission
        audit.record(
            session, principal, "grant.put", name, grantee=body.principal, permission=body.permission
        )
        session.flush()
        return _collection_out(session, collection, principal)


@router.delete("/collections/{name}/grants/{grantee}", status_code=204)
def delete_grant(name: str, grantee: str, services: ServicesDep, principal: Writer) -> Response:
    with services.db.transaction() as session:
        collection = _managed(session, name, principal)
        grant = session.execute(
            select(Grant).where(Grant.collection_id == collection.id, Grant.principal == grantee)
        ).scalar_one_or_none()
        if grant is None:
            raise NotFoundError(f"No grant for {grantee!r} on {name!r}.")
        session.delete(grant)
        audit.record(session, principal, "grant.delete", name, grantee=grantee)
    return Response(status_code=204)


# -- audit ------------------------------------------------------------------------------------------
class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    detail: dict[str, Any]


@router.get("/audit", response_model=list[AuditOut])
def list_audit(
    services: ServicesDep,
    principal: Admin,
    action: str | None = None,
    actor: str | None = None,
    before_id: Annotated[int | None, Query(ge=1, description="Page backwards from this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    """The audit trail, newest first (admins)."""
    with services.db.read() as session:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if action:
            query = query.where(AuditEvent.action == action)
        if actor:
            query = query.where(AuditEvent.actor == actor)
        if before_id:
            query = query.where(AuditEvent.id < before_id)
        return [AuditOut.model_validate(e, from_attributes=True) for e in session.execute(query).scalars()]


def _as_principal(user: User) -> Principal:
    return Principal(username=user.username, role=user.role, scopes=frozenset(SCOPES), user_id=user.id)


__all__ = ["ROLES", "router"]
