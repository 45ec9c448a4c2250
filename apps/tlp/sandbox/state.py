"""The sandbox's TLP: accounts (one per API key), each with point types, offers, members and their balances,
transactions, tiers, partners and locations, held in memory behind one lock.

It behaves like a careful real service: it validates every field (422 with per-field details, 400 for a
body that is not JSON), answers 404 for unknown ids, refuses a redemption above the balance, and replays
the first answer to a write sent again with the same ``Idempotency-Key`` (never applying it twice). It has
no Django in it, so it runs as a plain process (``manage.py tlp_sandbox``) or in a test's thread.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from apps.tlp import wire
from apps.tlp.wire import F

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
MAX_PAGE_SIZE = 100


class SandboxError(Exception):
    """An answer other than success: HTTP status, TLP error code, message and per-field messages."""

    def __init__(self, status: int, code: str, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}

    def body(self) -> dict[str, Any]:
        return wire.error_body(code=self.code, message=self.message, fields=self.fields)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "points"


# ------------------------------------------------------------------------------------------ validation
class _Validator:
    """Collects every field problem of a body before refusing it, as a real service would."""

    def __init__(self, body: dict[str, Any], *, partial: bool = False) -> None:
        self.body = body
        self.partial = partial
        self.errors: dict[str, str] = {}

    def _present(self, name: str, required: bool) -> bool:
        if name in self.body and self.body[name] is not None:
            return True
        if required and not self.partial:
            self.errors[name] = "is required"
        return False

    def string(self, name: str, *, required: bool = False, max_length: int = 200, pattern: re.Pattern | None = None,
               message: str = "is not valid") -> None:
        if not self._present(name, required):
            return
        value = self.body[name]
        if not isinstance(value, str):
            self.errors[name] = "must be a string"
        elif required and not value.strip():
            self.errors[name] = "must not be blank"
        elif len(value) > max_length:
            self.errors[name] = f"must be at most {max_length} characters"
        elif pattern is not None and value and not pattern.match(value):
            self.errors[name] = message

    def integer(self, name: str, *, required: bool = False, minimum: int | None = None,
                maximum: int | None = None) -> None:
        if not self._present(name, required):
            return
        value = self.body[name]
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors[name] = "must be an integer"
        elif minimum is not None and value < minimum:
            self.errors[name] = f"must be greater than or equal to {minimum}"
        elif maximum is not None and value > maximum:
            self.errors[name] = f"must be less than or equal to {maximum}"

    def number(self, name: str, *, required: bool = False, minimum: float | None = None,
               maximum: float | None = None) -> None:
        if not self._present(name, required):
            return
        value = self.body[name]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.errors[name] = "must be a number"
        elif minimum is not None and value < minimum:
            self.errors[name] = f"must be greater than or equal to {minimum}"
        elif maximum is not None and value > maximum:
            self.errors[name] = f"must be less than or equal to {maximum}"

    def boolean(self, name: str) -> None:
        if self._present(name, False) and not isinstance(self.body[name], bool):
            self.errors[name] = "must be a boolean"

    def choice(self, name: str, choices: tuple[str, ...], *, required: bool = False) -> None:
        if self._present(name, required) and self.body[name] not in choices:
            self.errors[name] = f"must be one of: {', '.join(choices)}"

    def reference(self, name: str, table: dict[str, Any], *, required: bool = False, what: str = "resource") -> None:
        if not self._present(name, required) or name in self.errors:
            return
        if not isinstance(self.body[name], str) or self.body[name] not in table:
            self.errors[name] = f"unknown {what}"

    def check(self) -> None:
        if self.errors:
            raise SandboxError(422, wire.ErrorCode.VALIDATION, "The request has invalid fields.", self.errors)


def _ensure_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SandboxError(400, wire.ErrorCode.MALFORMED, "The request body must be a JSON object.")
    return body


# ------------------------------------------------------------------------------------------ accounts
@dataclass
class IdempotentResult:
    fingerprint: str
    status: int
    body: dict[str, Any]


@dataclass
class Account:
    api_key: str
    point_types: dict[str, dict[str, Any]] = field(default_factory=dict)
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, dict[str, Any]] = field(default_factory=dict)
    # member id -> point type id -> balance
    balances: dict[str, dict[str, int]] = field(default_factory=dict)
    transactions: list[dict[str, Any]] = field(default_factory=list)
    tiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    partners: dict[str, dict[str, Any]] = field(default_factory=dict)
    locations: dict[str, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, IdempotentResult] = field(default_factory=dict)
    replays: int = 0

    # ---------------------------------------------------------------- point types
    def _point_type_validate(self, body: dict[str, Any], *, partial: bool) -> None:
        check = _Validator(body, partial=partial)
        check.string(F.NAME, required=True, max_length=100)
        check.string(F.DESCRIPTION, max_length=500)
        check.integer(F.RANK, minimum=0, maximum=1000)
        check.boolean(F.ENABLED)
        options = body.get(F.OPTIONS)
        if options is not None:
            if not isinstance(options, dict):
                check.errors[F.OPTIONS] = "must be an object"
            elif F.SHOW_ZERO_POINT_BALANCE in options and not isinstance(options[F.SHOW_ZERO_POINT_BALANCE], bool):
                check.errors[f"{F.OPTIONS}.{F.SHOW_ZERO_POINT_BALANCE}"] = "must be a boolean"
        check.check()

    def point_type_create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self._point_type_validate(body, partial=False)
        base = f"point.{_slug(body[F.NAME])}"
        point_id, suffix = base, 2
        while point_id in self.point_types:
            point_id, suffix = f"{base}_{suffix}", suffix + 1
        now = _now()
        record = {
            F.ID: point_id, F.NAME: body[F.NAME], F.DESCRIPTION: body.get(F.DESCRIPTION, ""),
            F.RANK: body.get(F.RANK, 0), F.ENABLED: body.get(F.ENABLED, True),
            F.OPTIONS: {F.SHOW_ZERO_POINT_BALANCE: (body.get(F.OPTIONS) or {}).get(F.SHOW_ZERO_POINT_BALANCE, False)},
            F.CREATED_AT: now, F.UPDATED_AT: now,
        }
        self.point_types[point_id] = record
        return 201, copy.deepcopy(record)

    def point_type_update(self, point_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        record = self._get(self.point_types, point_id, "point type")
        self._point_type_validate(body, partial=True)
        for name in (F.NAME, F.DESCRIPTION, F.RANK, F.ENABLED):
            if body.get(name) is not None:
                record[name] = body[name]
        if isinstance(body.get(F.OPTIONS), dict):
            record[F.OPTIONS].update(body[F.OPTIONS])
        record[F.UPDATED_AT] = _now()
        return 200, copy.deepcopy(record)

    # ---------------------------------------------------------------- offers
    def _offer_validate(self, merged: dict[str, Any]) -> None:
        check = _Validator(merged)
        check.choice(F.OFFER_TYPE, (wire.OfferType.ACCRUAL, wire.OfferType.REDEMPTION), required=True)
        subtypes = wire.ACCRUAL_SUBTYPES if merged.get(F.OFFER_TYPE) == wire.OfferType.ACCRUAL \
            else wire.REDEMPTION_SUBTYPES
        check.choice(F.OFFER_SUBTYPE, subtypes, required=True)
        check.string(F.NAME, required=True, max_length=200)
        check.string(F.DESCRIPTION, max_length=1000)
        check.integer(F.POINTS, required=True, minimum=1)
        check.reference(F.POINT_TYPE, self.point_types, required=True, what="point type")
        check.number(F.MINIMUM_SPEND, minimum=0)
        for flag in (F.ENABLED, F.ONLINE, F.LOCATION):
            check.boolean(flag)
        check.string(F.IMAGE_URL, max_length=2000, pattern=URL_RE, message="must be an http(s) URL")
        if merged.get(F.OFFER_TYPE) == wire.OfferType.REDEMPTION and merged.get(F.MINIMUM_SPEND):
            check.errors.setdefault(F.MINIMUM_SPEND, "is only allowed on accrual offers")
        check.check()

    _OFFER_FIELDS = (F.OFFER_TYPE, F.OFFER_SUBTYPE, F.NAME, F.DESCRIPTION, F.POINTS, F.POINT_TYPE, F.MINIMUM_SPEND,
                     F.ENABLED, F.ONLINE, F.LOCATION, F.IMAGE_URL)

    def offer_create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self._offer_validate(body)
        now = _now()
        record = {F.ID: _new_id("ofr"), F.DESCRIPTION: "", F.MINIMUM_SPEND: 0, F.ENABLED: True, F.ONLINE: False,
                  F.LOCATION: False, F.IMAGE_URL: None, F.CREATED_AT: now, F.UPDATED_AT: now}
        record.update({name: body[name] for name in self._OFFER_FIELDS if body.get(name) is not None})
        self.offers[record[F.ID]] = record
        return 201, copy.deepcopy(record)

    def offer_update(self, offer_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        record = self._get(self.offers, offer_id, "offer")
        merged = {**record, **{name: body[name] for name in self._OFFER_FIELDS if body.get(name) is not None}}
        self._offer_validate(merged)
        record.update(merged)
        record[F.UPDATED_AT] = _now()
        return 200, copy.deepcopy(record)

    def offer_search(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        page, page_size = _paging(query)
        enabled = _bool_param(query, F.ENABLED)
        text = (query.get(F.QUERY) or "").lower()
        found = [
            offer for offer in self.offers.values()
            if all(query.get(name) in (None, offer[name]) for name in (F.OFFER_TYPE, F.OFFER_SUBTYPE, F.POINT_TYPE))
            and (enabled is None or offer[F.ENABLED] == enabled)
            and (not text or text in offer[F.NAME].lower())
        ]
        return 200, _page(found, page, page_size)

    # ---------------------------------------------------------------- members
    def _member_validate(self, body: dict[str, Any], *, partial: bool) -> None:
        check = _Validator(body, partial=partial)
        check.string(F.EXTERNAL_ID, required=True, max_length=200)
        check.string(F.EMAIL, max_length=254, pattern=EMAIL_RE, message="must be an email address")
        check.string(F.FIRST_NAME, max_length=100)
        check.string(F.LAST_NAME, max_length=100)
        check.choice(F.STATUS, ("active", "inactive"))
        check.reference(F.TIER_ID, self.tiers, what="tier")
        check.check()

    _MEMBER_FIELDS = (F.EXTERNAL_ID, F.EMAIL, F.FIRST_NAME, F.LAST_NAME, F.STATUS, F.TIER_ID)

    def member_create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self._member_validate(body, partial=False)
        if any(member[F.EXTERNAL_ID] == body[F.EXTERNAL_ID] for member in self.members.values()):
            raise SandboxError(409, wire.ErrorCode.CONFLICT, "A member with this externalId already exists.",
                               {F.EXTERNAL_ID: "already exists"})
        now = _now()
        record = {F.ID: _new_id("mbr"), F.EMAIL: None, F.FIRST_NAME: "", F.LAST_NAME: "", F.STATUS: "active",
                  F.TIER_ID: None, F.CREATED_AT: now, F.UPDATED_AT: now}
        record.update({name: body[name] for name in self._MEMBER_FIELDS if body.get(name) is not None})
        self.members[record[F.ID]] = record
        self.balances[record[F.ID]] = {}
        return 201, self._member_out(record)

    def member_update(self, member_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        record = self._get(self.members, member_id, "member")
        self._member_validate(body, partial=True)
        external_id = body.get(F.EXTERNAL_ID)
        if external_id and any(other[F.EXTERNAL_ID] == external_id and other_id != member_id
                               for other_id, other in self.members.items()):
            raise SandboxError(409, wire.ErrorCode.CONFLICT, "A member with this externalId already exists.",
                               {F.EXTERNAL_ID: "already exists"})
        record.update({name: body[name] for name in self._MEMBER_FIELDS if body.get(name) is not None})
        record[F.UPDATED_AT] = _now()
        return 200, self._member_out(record)

    def member_search(self, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        page, page_size = _paging(query)
        text = (query.get(F.QUERY) or "").lower()
        found = [
            member for member in self.members.values()
            if query.get(F.EXTERNAL_ID) in (None, member[F.EXTERNAL_ID])
            and query.get(F.EMAIL) in (None, member[F.EMAIL])
            and (not text or text in " ".join(str(member.get(name) or "") for name in
                                              (F.EMAIL, F.FIRST_NAME, F.LAST_NAME)).lower())
        ]
        return 200, _page([self._member_out(member) for member in found], page, page_size)

    def _member_out(self, record: dict[str, Any]) -> dict[str, Any]:
        balances = self.balances.get(record[F.ID], {})
        shown = []
        for point_id, point_type in self.point_types.items():
            balance = balances.get(point_id, 0)
            if balance or (point_id in balances and point_type[F.OPTIONS].get(F.SHOW_ZERO_POINT_BALANCE)):
                shown.append({F.POINT_TYPE: point_id, F.BALANCE: balance})
        return {**copy.deepcopy(record), F.BALANCES: shown}

    # ---------------------------------------------------------------- transactions
    def transaction(self, kind: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        check = _Validator(body)
        check.reference(F.MEMBER_ID, self.members, required=True, what="member")
        check.reference(F.POINT_TYPE, self.point_types, required=True, what="point type")
        check.string(F.REFERENCE, max_length=200)
        check.string(F.DESCRIPTION, max_length=500)
        offer = None
        if kind == wire.TransactionType.ISSUE or body.get(F.OFFER_ID) is None:
            check.integer(F.POINTS, required=True, minimum=1)
        else:
            check.reference(F.OFFER_ID, self.offers, what="offer")
            check.integer(F.POINTS, minimum=1)
            offer = self.offers.get(body.get(F.OFFER_ID))  # type: ignore[arg-type]
            wanted = wire.OfferType.ACCRUAL if kind == wire.TransactionType.ACCRUE else wire.OfferType.REDEMPTION
            if offer is not None and F.OFFER_ID not in check.errors:
                if offer[F.OFFER_TYPE] != wanted:
                    check.errors[F.OFFER_ID] = f"is not an {wanted} offer"
                elif not offer[F.ENABLED]:
                    check.errors[F.OFFER_ID] = "is disabled"
                elif offer[F.POINT_TYPE] != body.get(F.POINT_TYPE):
                    check.errors[F.OFFER_ID] = "belongs to another point type"
        check.check()
        point_type = self.point_types[body[F.POINT_TYPE]]
        if not point_type[F.ENABLED]:
            raise SandboxError(422, wire.ErrorCode.VALIDATION, "The request has invalid fields.",
                               {F.POINT_TYPE: "is disabled"})
        points = body.get(F.POINTS) or (offer[F.POINTS] if offer else 0)
        balances = self.balances.setdefault(body[F.MEMBER_ID], {})
        current = balances.get(point_type[F.ID], 0)
        if kind == wire.TransactionType.REDEEM:
            if current < points:
                raise SandboxError(422, wire.ErrorCode.INSUFFICIENT_BALANCE,
                                   f"Insufficient balance: {current} available, {points} requested.",
                                   {F.POINTS: "exceeds the member's balance"})
            balances[point_type[F.ID]] = current - points
        else:
            balances[point_type[F.ID]] = current + points
        record = {
            F.ID: _new_id("txn"), F.TYPE: kind, F.MEMBER_ID: body[F.MEMBER_ID], F.POINT_TYPE: point_type[F.ID],
            F.POINTS: points, F.OFFER_ID: offer[F.ID] if offer else None, F.REFERENCE: body.get(F.REFERENCE),
            F.DESCRIPTION: body.get(F.DESCRIPTION, ""), F.BALANCE: balances[point_type[F.ID]], F.CREATED_AT: _now(),
        }
        self.transactions.append(record)
        return 201, copy.deepcopy(record)

    # ---------------------------------------------------------------- tiers, partners, locations
    def _tier_validate(self, body: dict[str, Any], *, partial: bool) -> None:
        check = _Validator(body, partial=partial)
        check.string(F.NAME, required=True, max_length=100)
        check.integer(F.RANK, required=True, minimum=0, maximum=1000)
        check.reference(F.POINT_TYPE, self.point_types, what="point type")
        check.integer(F.THRESHOLD, minimum=0)
        check.string(F.DESCRIPTION, max_length=500)
        check.check()

    _TIER_FIELDS = (F.NAME, F.RANK, F.POINT_TYPE, F.THRESHOLD, F.DESCRIPTION)

    def tier_create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self._tier_validate(body, partial=False)
        now = _now()
        record = {F.ID: _new_id("tier"), F.POINT_TYPE: None, F.THRESHOLD: 0, F.DESCRIPTION: "",
                  F.CREATED_AT: now, F.UPDATED_AT: now}
        record.update({name: body[name] for name in self._TIER_FIELDS if body.get(name) is not None})
        self.tiers[record[F.ID]] = record
        return 201, copy.deepcopy(record)

    def tier_update(self, tier_id: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        record = self._get(self.tiers, tier_id, "tier")
        self._tier_validate(body, partial=True)
        record.update({name: body[name] for name in self._TIER_FIELDS if body.get(name) is not None})
        record[F.UPDATED_AT] = _now()
        return 200, copy.deepcopy(record)

    def partner_create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        check = _Validator(body)
        check.string(F.NAME, required=True, max_length=200)
        check.string(F.CODE, max_length=50, pattern=re.compile(r"^[A-Za-z0-9_-]+$"),
                     message="may hold only letters, digits, '-' and '_'")
        check.string(F.DESCRIPTION, max_length=500)
        check.check()
        if body.get(F.CODE) and any(partner[F.CODE] == body[F.CODE] for partner in self.partners.values()):
            raise SandboxError(409, wire.ErrorCode.CONFLICT, "A partner with this code already exists.",
                               {F.CODE: "already exists"})
        record = {F.ID: _new_id("ptn"), F.NAME: body[F.NAME], F.CODE: body.get(F.CODE),
                  F.DESCRIPTION: body.get(F.DESCRIPTION, ""), F.CREATED_AT: _now()}
        self.partners[record[F.ID]] = record
        return 201, copy.deepcopy(record)

    def location_create(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        check = _Validator(body)
        check.string(F.NAME, required=True, max_length=200)
        check.reference(F.PARTNER_ID, self.partners, what="partner")
        check.string(F.ADDRESS, max_length=300)
        check.string(F.CITY, max_length=100)
        check.string(F.COUNTRY, max_length=2, pattern=re.compile(r"^[A-Z]{2}$"),
                     message="must be an ISO 3166-1 alpha-2 code")
        check.number(F.LATITUDE, minimum=-90, maximum=90)
        check.number(F.LONGITUDE, minimum=-180, maximum=180)
        check.check()
        record = {F.ID: _new_id("loc"), F.CREATED_AT: _now()}
        record.update({name: body.get(name) for name in (F.NAME, F.PARTNER_ID, F.ADDRESS, F.CITY, F.COUNTRY,
                                                         F.LATITUDE, F.LONGITUDE)})
        self.locations[record[F.ID]] = record
        return 201, copy.deepcopy(record)

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _get(table: dict[str, dict[str, Any]], resource_id: str, what: str) -> dict[str, Any]:
        if resource_id not in table:
            raise SandboxError(404, wire.ErrorCode.NOT_FOUND, f"No {what} with id {resource_id}.")
        return table[resource_id]

    def stats(self) -> dict[str, Any]:
        by_type: dict[str, dict[str, int]] = {kind: {"count": 0, "points": 0} for kind in
                                              (wire.TransactionType.ACCRUE, wire.TransactionType.REDEEM,
                                               wire.TransactionType.ISSUE)}
        references: dict[str, int] = {}
        for txn in self.transactions:
            by_type[txn[F.TYPE]]["count"] += 1
            by_type[txn[F.TYPE]]["points"] += txn[F.POINTS]
            if txn.get(F.REFERENCE):
                references[txn[F.REFERENCE]] = references.get(txn[F.REFERENCE], 0) + 1
        return {
            "transactions": by_type,
            "duplicateReferences": sorted(ref for ref, count in references.items() if count > 1),
            "members": len(self.members), "offers": len(self.offers), "pointTypes": len(self.point_types),
            "tiers": len(self.tiers), "partners": len(self.partners), "locations": len(self.locations),
            "replays": self.replays,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "api_key": self.api_key, "point_types": self.point_types, "offers": self.offers, "members": self.members,
            "balances": self.balances, "transactions": self.transactions, "tiers": self.tiers,
            "partners": self.partners, "locations": self.locations,
            "idempotency": {key: [value.fingerprint, value.status, value.body]
                            for key, value in self.idempotency.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Account:
        account = cls(api_key=data["api_key"])
        for name in ("point_types", "offers", "members", "balances", "transactions", "tiers", "partners",
                     "locations"):
            setattr(account, name, data.get(name) or type(getattr(account, name))())
        account.idempotency = {key: IdempotentResult(*value) for key, value in (data.get("idempotency") or {}).items()}
        return account


def _paging(query: dict[str, str]) -> tuple[int, int]:
    errors = {}
    try:
        page = int(query.get(F.PAGE, "1"))
        if page < 1:
            errors[F.PAGE] = "must be greater than or equal to 1"
    except ValueError:
        page, errors[F.PAGE] = 1, "must be an integer"
    try:
        page_size = int(query.get(F.PAGE_SIZE, "50"))
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            errors[F.PAGE_SIZE] = f"must be between 1 and {MAX_PAGE_SIZE}"
    except ValueError:
        page_size, errors[F.PAGE_SIZE] = 50, "must be an integer"
    if errors:
        raise SandboxError(422, wire.ErrorCode.VALIDATION, "The query has invalid parameters.", errors)
    return page, page_size


def _bool_param(query: dict[str, str], name: str) -> bool | None:
    value = query.get(name)
    if value is None:
        return None
    if value.lower() not in ("true", "false"):
        raise SandboxError(422, wire.ErrorCode.VALIDATION, "The query has invalid parameters.",
                           {name: "must be true or false"})
    return value.lower() == "true"


def _page(items: list[dict[str, Any]], page: int, page_size: int) -> dict[str, Any]:
    start = (page - 1) * page_size
    return wire.page_body(items=copy.deepcopy(items[start:start + page_size]), page=page, page_size=page_size,
                          total=len(items))


# ------------------------------------------------------------------------------------------ the service
_ROUTES: list[tuple[wire.Operation, re.Pattern[str]]] = [
    (operation, re.compile("^" + re.escape(operation.path).replace(re.escape("{id}"), r"(?P<id>[^/]+)") + "/?$"))
    for operation in wire.OPERATIONS.values()
]


def route(method: str, path: str) -> tuple[wire.Operation, str | None] | None:
    """The operation a method and path name, with the id in the path if any; None when there is none."""
    from urllib.parse import unquote

    for operation, pattern in _ROUTES:
        match = pattern.match(path)
        if match and operation.method == method:
            return operation, unquote(match.group("id")) if "id" in pattern.groupindex else None
    return None


def path_known(path: str) -> bool:
    return any(pattern.match(path) for _operation, pattern in _ROUTES)


class SandboxState:
    """Every account of the sandbox. All reads and writes hold ``lock``, so requests apply one at a time."""

    def __init__(self, *, api_keys: list[str] | tuple[str, ...] = ()) -> None:
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {key: Account(api_key=key) for key in api_keys}
        self.dirty = False

    def account_create(self, api_key: str | None = None) -> str:
        with self.lock:
            key = api_key or f"sbx_{secrets.token_urlsafe(24)}"
            self.accounts.setdefault(key, Account(api_key=key))
            self.dirty = True
            return key

    def account(self, api_key: str | None) -> Account:
        with self.lock:
            account = self.accounts.get(api_key or "")
        if account is None:
            raise SandboxError(401, wire.ErrorCode.UNAUTHORIZED, "Missing or invalid API key.")
        return account

    def handle(self, *, account: Account, operation: wire.Operation, resource_id: str | None,
               query: dict[str, str], body: Any, idempotency_key: str | None) -> tuple[int, dict[str, Any], bool]:
        """Apply one operation; returns (status, body, replayed). Raises SandboxError for a refusal."""
        with self.lock:
            fingerprint = ""
            if operation.write and idempotency_key:
                fingerprint = hashlib.sha256(json.dumps(
                    [operation.name, resource_id, body], sort_keys=True, default=str).encode()).hexdigest()
                earlier = account.idempotency.get(idempotency_key)
                if earlier is not None:
                    if earlier.fingerprint != fingerprint:
                        raise SandboxError(409, wire.ErrorCode.IDEMPOTENCY_MISMATCH,
                                           "This Idempotency-Key was used with a different request.")
                    account.replays += 1
                    return earlier.status, copy.deepcopy(earlier.body), True
            try:
                status, answer = self._apply(account, operation, resource_id, query, body)
            except SandboxError as exc:
                status, answer = exc.status, exc.body()
            if operation.write:
                self.dirty = True
                if idempotency_key:
                    # Refusals are replayed too: the same request gets the same answer.
                    account.idempotency[idempotency_key] = IdempotentResult(fingerprint, status, copy.deepcopy(answer))
            return status, answer, False

    @staticmethod
    def _apply(account: Account, operation: wire.Operation, resource_id: str | None, query: dict[str, str],
               body: Any) -> tuple[int, dict[str, Any]]:
        name = operation.name
        if name == "offer_search":
            return account.offer_search(query)
        if name == "member_search":
            return account.member_search(query)
        body = _ensure_object(body)
        if name == "points_accrue":
            return account.transaction(wire.TransactionType.ACCRUE, body)
        if name == "points_redeem":
            return account.transaction(wire.TransactionType.REDEEM, body)
        if name == "points_issue":
            return account.transaction(wire.TransactionType.ISSUE, body)
        handler = getattr(account, name)
        return handler(resource_id, body) if resource_id is not None else handler(body)

    # ---------------------------------------------------------------- persistence (the demo's state file)
    def to_json(self) -> dict[str, Any]:
        with self.lock:
            self.dirty = False
            return {"accounts": [account.to_json() for account in self.accounts.values()]}

    def load_json(self, data: dict[str, Any]) -> None:
        with self.lock:
            for item in data.get("accounts") or []:
                account = Account.from_json(item)
                self.accounts[account.api_key] = account
