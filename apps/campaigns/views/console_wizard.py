"""The campaign creation wizard of the admin console: details, goals, eligibility, prizes, schema, TLP, database,
review, approval (the seed's steps), at ``/console/campaigns/new/`` then ``/console/campaigns/<id>/wizard/<step>/``.

State lives on the server, in the draft campaign and its draft rule version: any step can be left and found
again as it was saved. Every step is a plain form post that works without JavaScript; static/js/console.js
adds the drop zone and htmx the live feedback of the three text steps. Thin: validation in the forms,
decisions in the services (``wizard_services`` and the campaign, rules and TLP services they call).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.campaigns.forms_console import (
    ApproveForm,
    CampaignDetailsForm,
    CampaignTextForm,
    ConnectionForm,
    SchemaCorrectionForm,
    SchemaUploadForm,
    TlpConfigureForm,
    form_error_apply,
)
from apps.campaigns.models import Campaign, CampaignRuleVersion
from apps.campaigns.selectors_console import (
    STEP_LABELS,
    STEPS,
    WizardState,
    console_can,
    document_error_text,
    document_understood,
    wizard_schema_view,
    wizard_state,
)
from apps.campaigns.services import campaign_approve, campaign_connection_set, campaign_create, campaign_submit
from apps.campaigns.views.console import campaign_or_404, console_view
from apps.campaigns.wizard_services import (
    SCHEMA_FILE_MAX_BYTES,
    section_errors,
    wizard_details_save,
    wizard_language,
    wizard_review_build,
    wizard_schema_correct,
    wizard_schema_upload,
    wizard_section_save,
    wizard_text_feedback,
)
from apps.campaigns.wizard_text import SECTIONS
from apps.core.errors import ApplicationError
from apps.rules.document import rule_document_errors
from apps.rules.nl_parse import ParseResult
from apps.tlp.selectors import tlp_configuration_active, tlp_configuration_get
from apps.tlp.services import tlp_configure, tlp_health_check

CLOSED = (Campaign.Status.COMPLETED, Campaign.Status.CANCELLED)


def _language() -> str:
    return wizard_language(translation.get_language())


def _step_url(campaign: Campaign, step: str) -> str:
    return reverse("console-wizard-step", args=[campaign.pk, step])


def _neighbour(step: str, offset: int) -> str | None:
    index = STEPS.index(step) + offset
    return STEPS[index] if 0 <= index < len(STEPS) else None


def _render(request: HttpRequest, campaign: Campaign, state: WizardState, step: str, context: dict[str, Any],
            status: int = 200) -> HttpResponse:
    steps = [{"name": name, "label": STEP_LABELS[name], "url": _step_url(campaign, name), "done": state.done[name],
              "current": name == step, "number": index + 1} for index, name in enumerate(STEPS)]
    previous, following = _neighbour(step, -1), _neighbour(step, 1)
    base = {
        "campaign": campaign, "state": state, "step": step, "step_label": STEP_LABELS[step], "steps": steps,
        "previous_url": _step_url(campaign, previous) if previous else None,
        "next_url": _step_url(campaign, following) if following else None,
        "can_write": console_can(user=request.user, action="write"),
        "can_approve": console_can(user=request.user, action="approve"),
        "can_tlp": console_can(user=request.user, action="tlp"),
    }
    return render(request, f"campaigns/console/wizard/{step}.html", base | context, status=status)


def _feedback_context(result: ParseResult | None, document: dict[str, Any] | None, section: str,
                      errors: list[Any] | None = None) -> dict[str, Any]:
    document = result.document if result is not None else document
    if not document:
        return {"section": section, "understood": None, "warnings": [], "errors": errors or []}
    return {"section": section, "understood": document_understood(document=document),
            "warnings": list(document.get("warnings") or []), "errors": errors or []}


# ------------------------------------------------------------------------------------------ entry points
@console_view("write")
@require_http_methods(["GET", "POST"])
def wizard_new(request: HttpRequest) -> HttpResponse:
    """Step 1 for a new campaign: its details create the draft."""
    form = CampaignDetailsForm(request.POST or None, initial={"language": _language(), "currency": "BRL"})
    if request.method == "POST" and form.is_valid():
        try:
            campaign = campaign_create(created_by=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form_error_apply(form, exc)
        else:
            messages.success(request, _("Draft campaign “%(name)s” created.") % {"name": campaign.name})
            return redirect(_step_url(campaign, "goals"))
    steps = [{"name": name, "label": STEP_LABELS[name], "url": None, "done": False, "current": name == "details",
              "number": index + 1} for index, name in enumerate(STEPS)]
    return render(request, "campaigns/console/wizard/details.html", {
        "campaign": None, "form": form, "step": "details", "step_label": STEP_LABELS["details"], "steps": steps,
        "can_write": True,
    }, status=400 if form.errors else 200)


@console_view("read")
@require_http_methods(["GET", "POST"])
def wizard_step(request: HttpRequest, campaign_id: Any, step: str) -> HttpResponse:
    campaign = campaign_or_404(campaign_id)
    if step not in STEPS:
        return redirect(_step_url(campaign, "details"))
    # Analysts read the review; every other step changes the campaign.
    if step != "review" and not console_can(user=request.user, action="write"):
        raise PermissionDenied(_("Your role does not allow this."))
    if campaign.status in CLOSED and step != "review":
        messages.info(request, _("This campaign is %(status)s: it can no longer be changed.")
                      % {"status": campaign.get_status_display()})
        return redirect("console-campaign-detail", campaign.pk)
    state = wizard_state(campaign=campaign, tlp_configured=tlp_configuration_active() is not None)
    handler = _text if step in SECTIONS else _HANDLERS[step]
    return handler(request, campaign, state, step)


@console_view("write")
@require_POST
def wizard_feedback(request: HttpRequest, campaign_id: Any, step: str) -> HttpResponse:
    """Live feedback while a text is typed (htmx): what the rules engine understood and what it could not."""
    campaign = campaign_or_404(campaign_id)
    if step not in SECTIONS:
        return HttpResponse(status=404)
    text = (request.POST.get("text") or "")[:20_000]
    result = wizard_text_feedback(campaign=campaign, section=step, text=text)
    errors = [document_error_text(path=error.path, message=error.message, document=result.document)
              for error in section_errors(errors=result.errors, section=step)] if text.strip() or step == "goals" \
        else []
    return render(request, "campaigns/console/wizard/_feedback.html", _feedback_context(result, None, step, errors))


# ------------------------------------------------------------------------------------------ steps
def _details(request: HttpRequest, campaign: Campaign, state: WizardState, step: str) -> HttpResponse:
    initial = {name: getattr(campaign, name) for name in CampaignDetailsForm.base_fields}
    form = CampaignDetailsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            wizard_details_save(campaign=campaign, user=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form_error_apply(form, exc)
        else:
            return redirect(_step_url(campaign, "goals"))
    return _render(request, campaign, state, step, {"form": form}, status=400 if form.errors else 200)


def _text(request: HttpRequest, campaign: Campaign, state: WizardState, step: str) -> HttpResponse:
    saved = getattr(state.texts, step)
    form = CampaignTextForm(request.POST or None, section=step, initial={"text": saved})
    result = None
    if request.method == "POST":
        going_back = request.POST.get("nav") == "back"
        if not form.is_valid():
            if going_back:  # nothing worth keeping was typed: just go back
                return redirect(_step_url(campaign, _neighbour(step, -1) or step))
        else:
            try:
                result = wizard_section_save(campaign=campaign, section=step, text=form.cleaned_data["text"],
                                             user=request.user)
            except ApplicationError as exc:
                form_error_apply(form, exc, aliases={"text": "text"})
            else:
                errors = section_errors(errors=result.errors, section=step)
                if going_back:
                    return redirect(_step_url(campaign, _neighbour(step, -1) or step))
                if not errors:
                    return redirect(_step_url(campaign, _neighbour(step, 1) or step))
                for error in errors:
                    form.add_error("text", document_error_text(path=error.path, message=error.message,
                                                               document=result.document))
    document = state.document
    errors_now = []
    if result is None and document and saved:
        errors_now = [document_error_text(path=error.path, message=error.message, document=document)
                      for error in section_errors(errors=rule_document_errors(document=document), section=step)]
    feedback = _feedback_context(result, document, step, errors_now)
    return _render(request, campaign, state, step, {"form": form, "feedback": feedback,
                                                    "feedback_url": reverse("console-wizard-feedback",
                                                                            args=[campaign.pk, step])},
                   status=400 if form.errors else 200)


def _schema(request: HttpRequest, campaign: Campaign, state: WizardState, step: str) -> HttpResponse:
    language = _language()
    action = request.POST.get("action") if request.method == "POST" else None
    upload = SchemaUploadForm(request.POST or None, request.FILES or None) if action == "upload" \
        else SchemaUploadForm()
    schema = wizard_schema_view(campaign=campaign, language=language)
    nav_error = ""
    correction = SchemaCorrectionForm(request.POST if action == "correct" else None, schema=schema) \
        if schema is not None else None
    if action == "upload" and upload.is_valid():
        file = upload.cleaned_data.get("file")
        try:
            analysis = wizard_schema_upload(
                campaign=campaign, user=request.user, language=language, file_name=file.name if file else "",
                # At most one byte over the limit is read: the service refuses what is larger.
                content=file.read(SCHEMA_FILE_MAX_BYTES + 1) if file else None, dialect=upload.cleaned_data["dialect"],
                url=upload.cleaned_data.get("url") or None)
        except ApplicationError as exc:
            form_error_apply(upload, exc, aliases={"schema": "file", "ddl": "file", "description": "file",
                                                   "kind": "file"})
        else:
            messages.success(request, _("Schema analysed: %(percent)s%% understood.")
                             % {"percent": round(analysis["score"] * 100)})
            return redirect(_step_url(campaign, step))
    elif action == "correct" and correction is not None and correction.is_valid():
        corrections, joins = correction.corrections(), correction.joins()
        if not corrections and not joins:
            correction.add_error(None, _("Nothing was changed."))
        else:
            try:
                analysis = wizard_schema_correct(campaign=campaign, user=request.user, language=language,
                                                 corrections=corrections, joins=joins)
            except ApplicationError as exc:
                aliases = {concept: f"concept_{concept}" for concept in corrections}
                aliases.update({"joins[0].from": "join_from", "joins[0].to": "join_to"})
                form_error_apply(correction, exc, aliases=aliases)
            else:
                messages.success(request, _("Corrections applied: %(percent)s%% understood.")
                                 % {"percent": round(analysis["score"] * 100)})
                return redirect(_step_url(campaign, step))
    elif action == "next":
        if state.done["schema"]:
            return redirect(_step_url(campaign, "tlp"))
        nav_error = _("Upload the schema of the sales database first: the rules are compiled against it.")
    invalid = bool(nav_error or upload.errors or (correction is not None and correction.errors))
    return _render(request, campaign, state, step, {"upload": upload, "schema": schema, "correction": correction,
                                                    "nav_error": nav_error}, status=400 if invalid else 200)


def _tlp(request: HttpRequest, campaign: Campaign, state: WizardState, step: str) -> HttpResponse:
    action = request.POST.get("action") if request.method == "POST" else None
    configuration = tlp_configuration_get()
    form = TlpConfigureForm(request.POST if action == "configure" else None,
                            initial={"endpoint_url": configuration.endpoint_url if configuration else ""})
    health = None
    if action == "configure":
        if not console_can(user=request.user, action="tlp"):
            raise PermissionDenied(_("Only an owner or an admin can configure TLP."))
        if form.is_valid():
            try:
                configuration = tlp_configure(endpoint_url=form.cleaned_data["endpoint_url"],
                                              api_key=form.cleaned_data["api_key"])
            except ApplicationError as exc:
                form_error_apply(form, exc)
            else:
                messages.success(request, _("TLP is connected (answered in %(ms)s ms).")
                                 % {"ms": configuration.last_latency_ms})
                return redirect(_step_url(campaign, step))
    elif action == "check":
        health = tlp_health_check()
    elif action == "next":
        return redirect(_step_url(campaign, "connection"))
    return _render(request, campaign, state, step, {"form": form, "configuration": configuration,
                                                    "health": health}, status=400 if form.errors else 200)


def _connection(request: HttpRequest, campaign: Campaign, state: WizardState, step: str) -> HttpResponse:
    action = request.POST.get("action") if request.method == "POST" else None
    form = ConnectionForm(request.POST if action == "save" else None)
    nav_error = ""
    if action == "save" and form.is_valid():
        try:
            campaign_connection_set(campaign=campaign, url=form.cleaned_data["url"])
        except ApplicationError as exc:
            form_error_apply(form, exc)
        else:
            messages.success(request, _("The database answered and its connection is saved (encrypted)."))
            return redirect(_step_url(campaign, step))
    elif action == "next":
        if state.done["connection"]:
            return redirect(_step_url(campaign, "review"))
        nav_error = _("Connect the customer's database first: each run reads the sales from it.")
    schema_connected = bool(campaign.source_schema_id and campaign.source_schema.connection_encrypted)
    return _render(request, campaign, state, step, {"form": form, "schema_connected": schema_connected,
                                                    "nav_error": nav_error},
                   status=400 if form.errors or nav_error else 200)


def _review(request: HttpRequest, campaign: Campaign, state: WizardState, step: str) -> HttpResponse:
    submit_errors: list[str] = []
    if request.method == "POST":
        if not console_can(user=request.user, action="write"):
            raise PermissionDenied(_("Your role does not allow this."))
        try:
            campaign_submit(campaign=campaign, user=request.user)
        except ApplicationError as exc:
            submit_errors = [exc.message, *(f"{path}: {message}" for path, messages_ in exc.fields.items()
                                            for message in messages_)]
        else:
            messages.success(request, _("Submitted for approval."))
            return redirect(_step_url(campaign, "approval"))
    review = wizard_review_build(campaign=campaign, language=_language())
    version = review.version
    context = {
        "review": review, "version": version, "submit_errors": submit_errors,
        "document_json": json.dumps(version.document, indent=2, ensure_ascii=False) if version else "",
        "params_json": json.dumps(review.code.compiled.participants.as_dict()["params"], ensure_ascii=False)
        if review.code else "",
        "tlp_configured": state.done["tlp"],
        "can_submit": bool(version and version.status == CampaignRuleVersion.Status.DRAFT and review.ok
                           and console_can(user=request.user, action="write")),
    }
    return _render(request, campaign, state, step, context, status=400 if submit_errors else 200)


def _approval(request: HttpRequest, campaign: Campaign, state: WizardState, step: str) -> HttpResponse:
    form = ApproveForm(request.POST or None)
    version = state.version
    pending = bool(version and version.status == CampaignRuleVersion.Status.PENDING)
    if request.method == "POST":
        if not console_can(user=request.user, action="approve"):
            raise PermissionDenied(_("Only an owner or an admin can approve a campaign."))
        if form.is_valid():
            try:
                campaign_approve(campaign=campaign, user=request.user, comment=form.cleaned_data["comment"])
            except ApplicationError as exc:
                form_error_apply(form, exc)
            else:
                campaign.refresh_from_db()
                messages.success(request, _("Campaign approved and scheduled.") + " " + campaign.tlp_note)
                return redirect("console-campaign-detail", campaign.pk)
    return _render(request, campaign, state, step, {"form": form, "pending": pending, "version": version},
                   status=400 if form.errors else 200)


_HANDLERS = {"details": _details, "schema": _schema, "tlp": _tlp, "connection": _connection, "review": _review,
             "approval": _approval}
