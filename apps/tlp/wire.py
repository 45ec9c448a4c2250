"""The TLP wire format: every path, header and field name the TLP API uses, and nothing else.

No public specification of the TLP API was found; what is here follows the design seed (Appendix A: paths;
"TLP Integration": ``offerType``, ``offerSubtype``, ``pointType``, ``minimumSpend``, ``imageUrl``, ``rank``,
``options.showZeroPointBalance``). The rest (member, transaction, tier, partner, location fields, the
error and page envelopes) is our best reading of a conventional JSON API. When the real specification
arrives, only this module changes: the client, the outbox and the sandbox all build and read bodies here.

Callers speak snake_case keyword arguments; ``*_body`` builds the JSON TLP expects, ``*_params`` a query,
and the ``read_*`` functions turn TLP's answers back into plain Python values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# ------------------------------------------------------------------------------------------ headers
AUTH_HEADER = "Authorization"
AUTH_SCHEME = "Bearer"
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
RETRY_AFTER_HEADER = "Retry-After"
REQUEST_ID_HEADER = "X-Request-Id"


def auth_header_value(api_key: str) -> str:
    return f"{AUTH_SCHEME} {api_key}"


def api_key_from_header(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, key = value.partition(" ")
    if scheme.lower() != AUTH_SCHEME.lower():
        return None
    return key.strip() or None


# ------------------------------------------------------------------------------------------ operations
@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str  # may hold "{id}"
    write: bool

    def url_path(self, resource_id: str | None = None) -> str:
        if "{id}" in self.path:
            if not resource_id:
                raise ValueError(f"{self.name} needs a resource id")
            return self.path.replace("{id}", _path_segment(resource_id))
        return self.path


def _path_segment(value: str) -> str:
    from urllib.parse import quote

    return quote(str(value), safe="")


POINT_TYPE_CREATE = Operation("point_type_create", "POST", "/points", True)
POINT_TYPE_UPDATE = Operation("point_type_update", "PUT", "/points/{id}", True)
OFFER_CREATE = Operation("offer_create", "POST", "/offers", True)
OFFER_UPDATE = Operation("offer_update", "PUT", "/offers/{id}", True)
OFFER_SEARCH = Operation("offer_search", "GET", "/offers", False)
POINTS_ACCRUE = Operation("points_accrue", "POST", "/transactions/accrue", True)
POINTS_REDEEM = Operation("points_redeem", "POST", "/transactions/redeem", True)
POINTS_ISSUE = Operation("points_issue", "POST", "/transactions/issue", True)
MEMBER_CREATE = Operation("member_create", "POST", "/members", True)
MEMBER_UPDATE = Operation("member_update", "PUT", "/members/{id}", True)
MEMBER_SEARCH = Operation("member_search", "GET", "/members", False)
TIER_CREATE = Operation("tier_create", "POST", "/tiers", True)
TIER_UPDATE = Operation("tier_update", "PUT", "/tiers/{id}", True)
PARTNER_CREATE = Operation("partner_create", "POST", "/partners", True)
LOCATION_CREATE = Operation("location_create", "POST", "/locations", True)

OPERATIONS: dict[str, Operation] = {op.name: op for op in (
    POINT_TYPE_CREATE, POINT_TYPE_UPDATE, OFFER_CREATE, OFFER_UPDATE, OFFER_SEARCH, POINTS_ACCRUE, POINTS_REDEEM,
    POINTS_ISSUE, MEMBER_CREATE, MEMBER_UPDATE, MEMBER_SEARCH, TIER_CREATE, TIER_UPDATE, PARTNER_CREATE,
    LOCATION_CREATE,
)}


# ------------------------------------------------------------------------------------------ field names
class F:
    """Field names on the wire."""

    ID = "id"
    NAME = "name"
    DESCRIPTION = "description"
    RANK = "rank"
    ENABLED = "enabled"
    OPTIONS = "options"
    SHOW_ZERO_POINT_BALANCE = "showZeroPointBalance"
    OFFER_TYPE = "offerType"
    OFFER_SUBTYPE = "offerSubtype"
    POINTS = "points"
    POINT_TYPE = "pointType"
    MINIMUM_SPEND = "minimumSpend"
    ONLINE = "online"
    LOCATION = "location"
    IMAGE_URL = "imageUrl"
    MEMBER_ID = "memberId"
    OFFER_ID = "offerId"
    REFERENCE = "reference"
    TYPE = "type"
    BALANCE = "balance"
    BALANCES = "balances"
    EXTERNAL_ID = "externalId"
    EMAIL = "email"
    FIRST_NAME = "firstName"
    LAST_NAME = "lastName"
    STATUS = "status"
    TIER_ID = "tierId"
    THRESHOLD = "threshold"
    PARTNER_ID = "partnerId"
    CODE = "code"
    ADDRESS = "address"
    CITY = "city"
    COUNTRY = "country"
    LATITUDE = "latitude"
    LONGITUDE = "longitude"
    CREATED_AT = "createdAt"
    UPDATED_AT = "updatedAt"
    # search
    QUERY = "q"
    PAGE = "page"
    PAGE_SIZE = "pageSize"
    DATA = "data"
    TOTAL = "total"
    # errors
    ERROR = "error"
    ERROR_CODE = "code"
    ERROR_MESSAGE = "message"
    ERROR_DETAILS = "details"
    ERROR_FIELD = "field"


class OfferType:
    ACCRUAL = "accrual"
    REDEMPTION = "redemption"


ACCRUAL_SUBTYPES = ("dynamic", "fixed")
REDEMPTION_SUBTYPES = ("product", "discount", "voucher")


class TransactionType:
    ACCRUE = "accrue"
    REDEEM = "redeem"
    ISSUE = "issue"


# Error codes TLP answers with (``error.code``) that callers act on.
class ErrorCode:
    VALIDATION = "validation_error"
    MALFORMED = "malformed_request"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    IDEMPOTENCY_MISMATCH = "idempotency_key_reused"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    RATE_LIMITED = "rate_limited"
    INTERNAL = "internal_error"
    UNAVAILABLE = "service_unavailable"


# ------------------------------------------------------------------------------------------ request bodies
def _clean(body: dict[str, Any]) -> dict[str, Any]:
    """Leave out what the caller did not give (None), so an update only touches the named fields."""
    return {key: value for key, value in body.items() if value is not None}


def point_type_body(*, name: str | None = None, description: str | None = None, rank: int | None = None,
                    enabled: bool | None = None, show_zero_balance: bool | None = None) -> dict[str, Any]:
    body = _clean({F.NAME: name, F.DESCRIPTION: description, F.RANK: rank, F.ENABLED: enabled})
    if show_zero_balance is not None:
        body[F.OPTIONS] = {F.SHOW_ZERO_POINT_BALANCE: show_zero_balance}
    return body


def offer_body(*, offer_type: str | None = None, offer_subtype: str | None = None, name: str | None = None,
               description: str | None = None, points: int | None = None, point_type: str | None = None,
               minimum_spend: int | float | None = None, enabled: bool | None = None, online: bool | None = None,
               location: bool | None = None, image_url: str | None = None) -> dict[str, Any]:
    return _clean({
        F.OFFER_TYPE: offer_type, F.OFFER_SUBTYPE: offer_subtype, F.NAME: name, F.DESCRIPTION: description,
        F.POINTS: points, F.POINT_TYPE: point_type, F.MINIMUM_SPEND: minimum_spend, F.ENABLED: enabled,
        F.ONLINE: online, F.LOCATION: location, F.IMAGE_URL: image_url,
    })


def transaction_body(*, member_id: str, point_type: str, points: int | None = None, offer_id: str | None = None,
                     reference: str | None = None, description: str | None = None) -> dict[str, Any]:
    return _clean({
        F.MEMBER_ID: member_id, F.POINT_TYPE: point_type, F.POINTS: points, F.OFFER_ID: offer_id,
        F.REFERENCE: reference, F.DESCRIPTION: description,
    })


def member_body(*, external_id: str | None = None, email: str | None = None, first_name: str | None = None,
                last_name: str | None = None, status: str | None = None,
                tier_id: str | None = None) -> dict[str, Any]:
    return _clean({
        F.EXTERNAL_ID: external_id, F.EMAIL: email, F.FIRST_NAME: first_name, F.LAST_NAME: last_name,
        F.STATUS: status, F.TIER_ID: tier_id,
    })


def tier_body(*, name: str | None = None, rank: int | None = None, point_type: str | None = None,
              threshold: int | None = None, description: str | None = None) -> dict[str, Any]:
    return _clean({F.NAME: name, F.RANK: rank, F.POINT_TYPE: point_type, F.THRESHOLD: threshold,
                   F.DESCRIPTION: description})


def partner_body(*, name: str, code: str | None = None, description: str | None = None) -> dict[str, Any]:
    return _clean({F.NAME: name, F.CODE: code, F.DESCRIPTION: description})


def location_body(*, name: str, partner_id: str | None = None, address: str | None = None, city: str | None = None,
                  country: str | None = None, latitude: float | None = None,
                  longitude: float | None = None) -> dict[str, Any]:
    return _clean({F.NAME: name, F.PARTNER_ID: partner_id, F.ADDRESS: address, F.CITY: city, F.COUNTRY: country,
                   F.LATITUDE: latitude, F.LONGITUDE: longitude})


def _flag(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def offer_search_params(*, offer_type: str | None = None, offer_subtype: str | None = None,
                        point_type: str | None = None, enabled: bool | None = None, query: str | None = None,
                        page: int = 1, page_size: int = 50) -> dict[str, str]:
    return {key: str(value) for key, value in _clean({
        F.OFFER_TYPE: offer_type, F.OFFER_SUBTYPE: offer_subtype, F.POINT_TYPE: point_type,
        F.ENABLED: _flag(enabled), F.QUERY: query, F.PAGE: page, F.PAGE_SIZE: page_size,
    }).items()}


def member_search_params(*, external_id: str | None = None, email: str | None = None, query: str | None = None,
                         page: int = 1, page_size: int = 50) -> dict[str, str]:
    return {key: str(value) for key, value in _clean({
        F.EXTERNAL_ID: external_id, F.EMAIL: email, F.QUERY: query, F.PAGE: page, F.PAGE_SIZE: page_size,
    }).items()}


# ------------------------------------------------------------------------------------------ responses
@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    page: int
    page_size: int
    total: int

    @property
    def has_next(self) -> bool:
        return self.page * self.page_size < self.total


def page_body(*, items: list[dict[str, Any]], page: int, page_size: int, total: int) -> dict[str, Any]:
    return {F.DATA: items, F.PAGE: page, F.PAGE_SIZE: page_size, F.TOTAL: total}


def read_page(body: dict[str, Any]) -> Page:
    return Page(items=list(body.get(F.DATA) or []), page=int(body.get(F.PAGE) or 1),
                page_size=int(body.get(F.PAGE_SIZE) or 0), total=int(body.get(F.TOTAL) or 0))


def read_id(body: dict[str, Any]) -> str:
    return str(body[F.ID])


def read_member_balances(member: dict[str, Any]) -> dict[str, int]:
    """``{point type id: balance}`` of a member as TLP returns it."""
    return {str(item[F.POINT_TYPE]): int(item[F.BALANCE]) for item in member.get(F.BALANCES) or []}


def read_member_external_id(member: dict[str, Any]) -> str | None:
    value = member.get(F.EXTERNAL_ID)
    return str(value) if value is not None else None


def error_body(*, code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    details = [{F.ERROR_FIELD: field, F.ERROR_MESSAGE: text} for field, text in (fields or {}).items()]
    return {F.ERROR: {F.ERROR_CODE: code, F.ERROR_MESSAGE: message, F.ERROR_DETAILS: details}}


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str
    fields: dict[str, list[str]]


def read_error(body: Any) -> ErrorInfo:
    """The code, message and per-field messages of an error answer (tolerates a body that is not ours)."""
    error = body.get(F.ERROR) if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return ErrorInfo(code="", message="", fields={})
    fields: dict[str, list[str]] = {}
    for detail in error.get(F.ERROR_DETAILS) or []:
        if isinstance(detail, dict) and detail.get(F.ERROR_FIELD):
            fields.setdefault(str(detail[F.ERROR_FIELD]), []).append(str(detail.get(F.ERROR_MESSAGE, "")))
    return ErrorInfo(code=str(error.get(F.ERROR_CODE) or ""), message=str(error.get(F.ERROR_MESSAGE) or ""),
                     fields=fields)
