"""MongoDB repositories of console users (ADR 0024), under the store rules of
`adapters.mongo`: exclusivity only from unique indexes (one user per email, one use per
invitation), no transactions, no TTL indexes, each document updated by one kind of write.

Collections: console_users, console_memberships, console_invitations, console_invitation_uses,
console_sessions, console_sign_in_failures.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from typing import Any, TypeVar

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from auth_service.people import Invitation, Membership, Role, Session, User
from herald.mongo import Document

Db = AsyncDatabase[Document]
T = TypeVar("T", User, Invitation, Session)

PEOPLE_INDEXES: dict[str, list[IndexModel]] = {
    "console_users": [IndexModel([("email", ASCENDING)], name="email", unique=True)],
    "console_memberships": [
        IndexModel([("business_id", ASCENDING)], name="business"),
        IndexModel([("user_id", ASCENDING)], name="user"),
    ],
    "console_invitations": [IndexModel([("business_id", ASCENDING)], name="business")],
    "console_sessions": [IndexModel([("user_id", ASCENDING)], name="user")],
    "console_sign_in_failures": [
        IndexModel([("subject", ASCENDING), ("at", ASCENDING)], name="subject_at"),
        IndexModel([("at", ASCENDING)], name="at"),
    ],
}
_ID = {User: "user_id", Invitation: "invitation_id", Session: "session_id"}


def _doc(record: User | Invitation | Session) -> Document:
    doc: dict[str, Any] = asdict(record)
    doc["_id"] = doc.pop(_ID[type(record)])
    return doc


def _from(kind: type[T], doc: Document) -> T:
    values: dict[str, Any] = {f.name: doc[f.name] for f in fields(kind) if f.name in doc}
    values[_ID[kind]] = str(doc["_id"])
    if "role" in values:
        values["role"] = Role(values["role"])
    return kind(**values)


def _membership(doc: Document) -> Membership:
    return Membership(
        str(doc["business_id"]), str(doc["user_id"]), Role(doc["role"]), doc["created_at"]
    )


class MongoPeople:
    def __init__(self, db: Db) -> None:
        self._users = db["console_users"]
        self._members = db["console_memberships"]
        self._invitations = db["console_invitations"]
        self._uses = db["console_invitation_uses"]
        self._sessions = db["console_sessions"]
        self._failures = db["console_sign_in_failures"]

    async def insert_user(self, user: User) -> bool:
        try:
            await self._users.insert_one(_doc(user))
        except DuplicateKeyError:
            return False
        return True

    async def user(self, user_id: str) -> User | None:
        doc = await self._users.find_one({"_id": user_id})
        return _from(User, doc) if doc else None

    async def user_by_email(self, email: str) -> User | None:
        doc = await self._users.find_one({"email": email})
        return _from(User, doc) if doc else None

    async def put_membership(self, membership: Membership) -> None:
        doc = {**asdict(membership), "role": membership.role.value}
        key = f"{membership.business_id}/{membership.user_id}"
        await self._members.replace_one({"_id": key}, doc, upsert=True)

    async def membership(self, business_id: str, user_id: str) -> Membership | None:
        doc = await self._members.find_one({"_id": f"{business_id}/{user_id}"})
        return _membership(doc) if doc else None

    async def memberships_of(self, user_id: str) -> list[Membership]:
        cursor = self._members.find({"user_id": user_id}).sort("created_at", ASCENDING)
        return [_membership(d) async for d in cursor]

    async def members(self, business_id: str) -> list[Membership]:
        cursor = self._members.find({"business_id": business_id}).sort("created_at", ASCENDING)
        return [_membership(d) async for d in cursor]

    async def set_role(self, business_id: str, user_id: str, role: Role) -> bool:
        done = await self._members.update_one(
            {"_id": f"{business_id}/{user_id}"}, {"$set": {"role": role.value}}
        )
        return done.matched_count == 1

    async def remove_membership(self, business_id: str, user_id: str) -> bool:
        done = await self._members.delete_one({"_id": f"{business_id}/{user_id}"})
        return done.deleted_count == 1

    async def insert_invitation(self, invitation: Invitation) -> None:
        await self._invitations.insert_one(_doc(invitation))

    async def invitation(self, invitation_id: str) -> Invitation | None:
        doc = await self._invitations.find_one({"_id": invitation_id})
        if doc is None:
            return None
        use = await self._uses.find_one({"_id": invitation_id})
        return _from(Invitation, {**doc, "used_at": use["at"] if use else None})

    async def invitations(self, business_id: str) -> list[Invitation]:
        cursor = self._invitations.find({"business_id": business_id}).sort("created_at", 1)
        found = [d async for d in cursor]
        used = {
            d["_id"]: d["at"]
            async for d in self._uses.find({"_id": {"$in": [d["_id"] for d in found]}})
        }
        return [_from(Invitation, {**d, "used_at": used.get(d["_id"])}) for d in found]

    async def use_invitation(self, invitation_id: str, at: datetime) -> bool:
        try:
            await self._uses.insert_one({"_id": invitation_id, "at": at})
        except DuplicateKeyError:
            return False
        return True

    async def insert_session(self, session: Session) -> None:
        await self._sessions.insert_one(_doc(session))

    async def session(self, session_id: str) -> Session | None:
        doc = await self._sessions.find_one({"_id": session_id})
        return _from(Session, doc) if doc else None

    async def revoke_session(self, session_id: str, at: datetime) -> None:
        await self._sessions.update_one(
            {"_id": session_id, "revoked_at": None}, {"$set": {"revoked_at": at}}
        )

    async def revoke_sessions(
        self, user_id: str, at: datetime, business_id: str | None = None
    ) -> int:
        query: dict[str, Any] = {"user_id": user_id, "revoked_at": None}
        if business_id is not None:
            query["business_id"] = business_id
        done = await self._sessions.update_many(query, {"$set": {"revoked_at": at}})
        return done.modified_count

    async def add_failure(self, subject: str, at: datetime, forget_before: datetime) -> None:
        # Every subject's old failures go, not only this one's: the collection holds at most
        # one window of failures, whoever stops failing.
        await self._failures.delete_many({"at": {"$lt": forget_before}})
        await self._failures.insert_one({"subject": subject, "at": at})

    async def failures_since(self, subject: str, since: datetime) -> int:
        return await self._failures.count_documents({"subject": subject, "at": {"$gte": since}})

    async def clear_failures(self, subject: str) -> None:
        await self._failures.delete_many({"subject": subject})
