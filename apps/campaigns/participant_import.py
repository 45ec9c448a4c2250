"""Participants imported from a CSV file or from the customer's database, each a user of the workspace
(created with role participant, or an existing user found by email) linked to a salesperson id and invited by
email. Once the campaign is approved, each gets their loyalty member and TLP member as they are imported (see
``participants_members_ensure``). Re-exported by ``apps.campaigns.services``.

Idempotent on the salesperson id: a salesperson already linked to the same user is left alone (and not
invited again). A CSV with any invalid line writes nothing and reports every line's errors; the customer's
database is read read-only and its unusable rows (no or invalid email, an email already taken) are reported
as skipped, the others imported.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.accounts.selectors import user_get_by_email
from apps.accounts.services import user_create
from apps.campaigns.models import Campaign, CampaignParticipant
from apps.campaigns.participant_services import participants_members_ensure
from apps.campaigns.selectors import campaign_source_database
from apps.core.errors import ApplicationError, UnprocessableError
from apps.rules.selectors import schema_mapping_dict
from apps.rules.source_db import source_fetch
from apps.tenants.selectors import tenant_base_url

CSV_COLUMNS = ("salesperson_id", "email", "name", "region")
MAX_IMPORT_ROWS = 20_000
MAX_IMPORT_BYTES = 5 * 1024 * 1024
NAME_COLUMNS = ("name", "full_name", "nome", "nome_completo", "nombre", "nombre_completo")
EMAIL_COLUMNS = ("email", "e_mail", "mail", "email_address")


@dataclass
class ImportRow:
    line: int
    salesperson_id: str
    email: str
    name: str = ""
    region: str = ""


@dataclass
class ImportResult:
    created: int = 0  # users created (and invited)
    linked: int = 0  # existing users linked (and told)
    unchanged: int = 0  # salespeople already linked to the same user
    skipped: list[dict[str, Any]] = field(default_factory=list)  # source rows not imported, with the reason


def _lines(file: Any) -> list[dict[str, str]]:
    raw = file.read(MAX_IMPORT_BYTES + 1)
    if len(raw) > MAX_IMPORT_BYTES:
        raise ApplicationError(_("The file is larger than 5 MB."), fields={"file": [_("Too large.")]})
    try:
        text = raw.decode("utf-8-sig") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise ApplicationError(_("The file must be UTF-8 text."), fields={"file": [_("Not UTF-8.")]}) from exc
    reader = csv.DictReader(io.StringIO(text))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    missing = [name for name in ("salesperson_id", "email") if name not in header]
    if missing:
        raise ApplicationError(
            _("The file's first line must name the columns salesperson_id, email, name, region."),
            fields={"file": [_("Missing column: %(column)s.") % {"column": name} for name in missing]})
    reader.fieldnames = header
    return list(reader)


def _csv_rows(file: Any) -> list[ImportRow]:
    """The file's rows, validated all at once: every invalid line is reported with its line number."""
    records = _lines(file)
    if len(records) > MAX_IMPORT_ROWS:
        raise ApplicationError(_("At most %(count)d participants per file.") % {"count": MAX_IMPORT_ROWS},
                               fields={"file": [_("Too many lines.")]})
    errors: dict[str, list[str]] = {}
    rows: list[ImportRow] = []
    seen_ids: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for index, record in enumerate(records, start=2):  # line 1 is the header
        row = ImportRow(line=index, salesperson_id=(record.get("salesperson_id") or "").strip(),
                        email=(record.get("email") or "").strip().lower(), name=(record.get("name") or "").strip(),
                        region=(record.get("region") or "").strip())
        problems = _row_problems(row)
        if row.salesperson_id in seen_ids:
            problems.append(_("Salesperson %(id)s is already on line %(line)d.")
                            % {"id": row.salesperson_id, "line": seen_ids[row.salesperson_id]})
        if row.email and row.email in seen_emails:
            problems.append(_("This email is already on line %(line)d.") % {"line": seen_emails[row.email]})
        seen_ids.setdefault(row.salesperson_id, index)
        seen_emails.setdefault(row.email, index)
        if problems:
            errors[f"line_{index}"] = problems
        rows.append(row)
    if not rows and not errors:
        raise ApplicationError(_("The file has no participants."), fields={"file": [_("Empty.")]})
    if errors:
        raise ApplicationError(_("The file has invalid lines; nothing was imported."), code="invalid_lines",
                               fields=errors)
    return rows


def _row_problems(row: ImportRow) -> list[str]:
    problems = []
    if not row.salesperson_id:
        problems.append(_("The salesperson id is required."))
    elif len(row.salesperson_id) > 200:
        problems.append(_("The salesperson id is longer than 200 characters."))
    try:
        validate_email(row.email)
    except ValidationError:
        problems.append(_("A valid email is required."))
    if len(row.name) > 200 or len(row.region) > 200:
        problems.append(_("Names and regions have at most 200 characters."))
    return problems


def _conflicts(campaign: Campaign, rows: list[ImportRow]) -> tuple[dict[int, list[str]], dict[int, User | None]]:
    """Per line, what stops linking it (a salesperson or a user already linked to someone else); and the
    existing user of each line's email."""
    known = {p.participant_key: p for p in campaign.participants.all()}
    by_user = {p.user_id: p.participant_key for p in known.values() if p.user_id}
    problems: dict[int, list[str]] = {}
    users: dict[int, User | None] = {}
    for row in rows:
        user = user_get_by_email(email=row.email)
        users[row.line] = user
        participant = known.get(row.salesperson_id)
        if participant is not None and participant.user_id and (user is None or participant.user_id != user.pk):
            problems.setdefault(row.line, []).append(_("Salesperson %(id)s is already linked to another user.")
                                                     % {"id": row.salesperson_id})
        if user is not None and by_user.get(user.pk, row.salesperson_id) != row.salesperson_id:
            problems.setdefault(row.line, []).append(_("This user already takes part as salesperson %(id)s.")
                                                     % {"id": by_user[user.pk]})
    return problems, users


def _rows_import(campaign: Campaign, rows: list[ImportRow], users: dict[int, User | None]) -> ImportResult:
    result = ImportResult()
    known = {p.participant_key: p for p in campaign.participants.select_for_update()}
    invites: list[tuple[User, bool]] = []
    joined: list[CampaignParticipant] = []
    for row in rows:
        participant = known.get(row.salesperson_id)
        user = users[row.line]
        if participant is not None and user is not None and participant.user_id == user.pk:
            result.unchanged += 1
            continue
        created = user is None
        if created:
            first, _sep, last = row.name.partition(" ")
            user = user_create(email=row.email, password=None, role=User.Role.PARTICIPANT, first_name=first[:150],
                               last_name=last[:150], preferred_language=campaign.language)
            result.created += 1
        else:
            result.linked += 1
        if participant is None:
            participant = CampaignParticipant(campaign=campaign, participant_key=row.salesperson_id)
        participant.user = user
        participant.email = row.email
        participant.name = row.name or participant.name
        participant.region = row.region or participant.region
        participant.save()
        joined.append(participant)
        invites.append((user, created))
    # Their loyalty and TLP members now (with the real email), not at their first points.
    participants_members_ensure(campaign=campaign, participants=joined)
    transaction.on_commit(lambda: [participant_invite_send(campaign=campaign, user=user, new=new)
                                   for user, new in invites])
    return result


@transaction.atomic
def participants_import_csv(*, campaign: Campaign, file: Any) -> ImportResult:
    """Import ``salesperson_id,email,name,region`` lines (a header line first): users created (role participant)
    or found by email, linked and invited. Refuses (400) the whole file, writing nothing, when any line is
    invalid or conflicts with an existing link; a closed campaign (409)."""
    _refuse_closed(campaign)
    rows = _csv_rows(file)
    problems, users = _conflicts(campaign, rows)
    if problems:
        raise ApplicationError(_("The file has invalid lines; nothing was imported."), code="invalid_lines",
                               fields={f"line_{line}": messages for line, messages in sorted(problems.items())})
    return _rows_import(campaign, rows, users)


@transaction.atomic
def participants_import_source(*, campaign: Campaign) -> ImportResult:
    """Import the distinct salespeople of the customer's database (the table and id column the campaign's
    schema mapping gives the salesperson concept; name and email read from that table), read-only. Rows
    without a usable email, or conflicting with an existing link, are skipped and reported. Refuses (422) a
    campaign without a schema mapping, a mapped salesperson or a database connection."""
    _refuse_closed(campaign)
    mapping = schema_mapping_dict(source_schema=campaign.source_schema) if campaign.source_schema else None
    salesperson = ((mapping or {}).get("concepts") or {}).get("salesperson") or {}
    if not salesperson.get("table") or not salesperson.get("column"):
        raise UnprocessableError(_("The campaign's database has no mapped salesperson."), code="salesperson_unmapped")
    source = campaign_source_database(campaign=campaign)
    if source is None:
        raise UnprocessableError(_("The campaign has no customer database connection."), code="source_missing")
    records = _source_salespeople(source, salesperson["table"], salesperson["column"])
    result = ImportResult()
    rows: list[ImportRow] = []
    seen_emails: set[str] = set()
    for index, (key, name, email) in enumerate(records, start=1):
        row = ImportRow(line=index, salesperson_id=str(key).strip(), email=str(email or "").strip().lower(),
                        name=str(name or "").strip()[:200])
        problems = _row_problems(row)
        if row.email in seen_emails:
            problems.append(_("Another salesperson has this email."))
        seen_emails.add(row.email)
        if problems:
            result.skipped.append({"salesperson_id": row.salesperson_id, "reasons": problems})
        else:
            rows.append(row)
    problems, users = _conflicts(campaign, rows)
    for row in rows:
        if row.line in problems:
            result.skipped.append({"salesperson_id": row.salesperson_id, "reasons": problems[row.line]})
    imported = _rows_import(campaign, [row for row in rows if row.line not in problems], users)
    result.created, result.linked, result.unchanged = imported.created, imported.linked, imported.unchanged
    return result


def _source_salespeople(source: Any, table: str, key: str) -> list[tuple[Any, Any, Any]]:
    """(id, name, email) of each distinct salesperson, the name and email columns found by their names."""
    from sqlglot import exp

    def column(name: str | None) -> exp.Expression:
        return exp.column(name, quoted=True) if name else exp.Null()

    table_expr = exp.Table(this=exp.to_identifier(table, quoted=True))
    probe = exp.select("*").from_(table_expr.copy()).where(exp.false())
    names, _rows = source_fetch(source=source, sql=probe.sql(dialect=source.dialect), max_rows=0)
    lowered = {name.lower(): name for name in names}
    prefix = key.lower().removesuffix("_id").removeprefix("id_")
    name_col = next((lowered[c] for c in (*NAME_COLUMNS, *(f"{prefix}_{n}" for n in NAME_COLUMNS)) if c in lowered),
                    None)
    email_col = next((lowered[c] for c in (*EMAIL_COLUMNS, *(f"{prefix}_{n}" for n in EMAIL_COLUMNS))
                      if c in lowered), None)
    select = (exp.select(column(key), column(name_col), column(email_col)).distinct()
              .from_(table_expr).where(exp.column(key, quoted=True).is_(exp.null()).not_())
              .order_by(exp.column(key, quoted=True)))
    _names, rows = source_fetch(source=source, sql=select.sql(dialect=source.dialect), max_rows=MAX_IMPORT_ROWS)
    return [(row[0], row[1], row[2]) for row in rows]


def _refuse_closed(campaign: Campaign) -> None:
    from apps.core.errors import ConflictError

    if campaign.status in (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED):
        raise ConflictError(_("A completed or cancelled campaign cannot be changed."), code="campaign_closed")


def _password_set_url(user: User) -> str:
    """allauth's password-reset-from-key link on the workspace's primary domain: it sets the first password."""
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    path = reverse("account_reset_password_from_key",
                   kwargs={"uidb36": user_pk_to_url_str(user), "key": default_token_generator.make_token(user)})
    return f"{tenant_base_url()}{path}"


def participant_invite_send(*, campaign: Campaign, user: User, new: bool) -> None:
    """Tell ``user`` (in their language) that they take part in ``campaign``; a new user gets a link to set
    their password."""
    with translation.override(user.preferred_language or campaign.language):
        subject = _("You take part in the campaign %(campaign)s") % {"campaign": campaign.name}
        lines = [_("Hello %(name)s,") % {"name": user.get_full_name() or user.email}, "",
                 _("You have been added to the sales campaign %(campaign)s: follow your progress and points, and "
                   "redeem prizes.") % {"campaign": campaign.name}, ""]
        if new:
            lines += [_("Set your password to sign in:"), _password_set_url(user)]
        else:
            login = f"{tenant_base_url()}{reverse('account_login')}"
            lines += [_("Sign in with your usual account: %(url)s") % {"url": login}]
        send_mail(subject, "\n".join(lines), None, [user.email])
