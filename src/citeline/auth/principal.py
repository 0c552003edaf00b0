"""Who is calling: a user, through a password-issued JWT or one of their API keys, with scopes."""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("read", "write", "admin")
ROLES = ("admin", "member")


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    role: str
    scopes: frozenset[str]
    user_id: str | None = None
    key_id: str | None = None

    @property
    def sees_everything(self) -> bool:
        """An admin acting with the admin scope reads and writes every collection and document."""
        return self.role == "admin" and "admin" in self.scopes

    @property
    def tokens(self) -> tuple[str, ...]:
        """The names grants and document ACLs may list this caller under."""
        names = [f"user:{self.username}"]
        if self.key_id is not None:
            names.append(f"key:{self.key_id}")
        return tuple(names)

    @property
    def actor(self) -> str:
        """The audit trail's name for the caller."""
        return f"key:{self.key_id}" if self.key_id else f"user:{self.username}"

    @property
    def owner_name(self) -> str:
        """Who owns what this caller creates (jobs): the user, whichever key they used."""
        return f"user:{self.username}"

    @property
    def limit_key(self) -> str:
        """What rate limits count per: the key, else the user."""
        return self.key_id or f"user:{self.username}"


# With auth off (loopback only) every caller is the local operator.
LOCAL = Principal(username="local", role="admin", scopes=frozenset(SCOPES))
