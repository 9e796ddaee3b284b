"""Views of the operator workspace (ticket page, register call, presence, files).

Thin adapters: parse a form, call one `tickets` service, render or redirect. They are
wired into `TicketAdmin.get_urls`, so the admin's login and staff checks apply.
"""

import hashlib
import logging

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import (
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from audit.services import audit_record
from tickets import services
from tickets.access import (
    access_attachment_for_staff,
    access_ticket_for_staff,
    tickets_for_staff,
    user_sees_personal_data,
)
from tickets.admin import forms as wforms
from tickets.admin.panels import ticket_panels_render
from tickets.admin.presence import HEARTBEAT_SECONDS, ticket_viewer_touch
from tickets.downloads import attachment_response
from tickets.models import Ticket, TicketLink
from tickets.selectors_admin import (
    canned_responses_for,
    contacts_possibly_same,
    mask_email,
    mask_name,
    mask_phone,
    messages_since,
    ticket_department_state,
    ticket_resolution_state,
    ticket_sla_state,
    ticket_workspace,
    tickets_for_call,
)
from tickets.services.calls import call_register

logger = logging.getLogger(__name__)


def _visible(request):
    return tickets_for_staff(request.user)


def _ticket_for(request, ticket_id) -> Ticket:
    return access_ticket_for_staff(
        request.user,
        ticket_id,
        queryset=Ticket.objects.select_related(
            "queue__calendar", "requester", "assignee", "assigned_group", "merged_into"
        ),
    )


def _ticket_by_number(request, number: int) -> Ticket | None:
    return _visible(request).filter(number=number).first()


def _change_url(ticket: Ticket) -> str:
    return reverse("admin:tickets_ticket_change", args=[ticket.pk])


def _add_errors(form, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """A service's errors on the form's fields; `aliases` maps a service's argument name
    to the form field that holds it."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = (aliases or {}).get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


KB_CACHE_SECONDS = 300


def kb_suggestions(ticket: Ticket) -> list[dict]:
    """Knowledge-base articles for the ticket's subject, when the KB offers them.

    Cached per subject for a few minutes: a search costs several queries and operators
    reload a ticket page often.
    """
    try:
        from knowledge_base.selectors import articles_suggest
    except ImportError:
        return []
    key = "ws-kb:" + hashlib.sha256(ticket.subject.encode()).hexdigest()[:32]
    cached = cache.get(key)
    if cached is not None:
        return cached
    result = _kb_suggestions(articles_suggest, ticket)
    cache.set(key, result, KB_CACHE_SECONDS)
    return result


def _kb_suggestions(articles_suggest, ticket: Ticket) -> list[dict]:
    try:
        articles = list(articles_suggest(ticket.subject, audience="staff", limit=5))[:5]
    except Exception:  # noqa: BLE001 - suggestions are optional; the page must work
        logger.warning("KB suggestions failed for ticket %s", ticket.pk, exc_info=True)
        return []
    result = []
    for article in articles:
        item = article if isinstance(article, dict) else vars(article)
        url = item.get("absolute_url") or item.get("url") or ""
        if url.startswith("/"):
            url = f"{settings.SITE_URL}{url}"
        result.append(
            {
                "title": item.get("title", ""),
                "url": url,
                "summary": item.get("summary", ""),
                "text": item.get("body") or item.get("summary") or "",
            }
        )
    return result


def _requester_display(ticket: Ticket, user) -> dict:
    requester = ticket.requester
    if user_sees_personal_data(user):
        return {
            "full": True,
            "name": requester.full_name,
            "email": requester.email,
            "phone": requester.phone,
            "inn": requester.inn,
            "organisation": requester.organisation,
        }
    return _requester_masked(ticket)


def _requester_masked(ticket: Ticket) -> dict:
    requester = ticket.requester
    return {
        "full": False,
        "name": mask_name(requester.full_name),
        "email": mask_email(requester.email),
        "phone": mask_phone(requester.phone),
        "inn": "***" if requester.inn else "",
        "organisation": requester.organisation,
    }


def _same_person(ticket: Ticket, user) -> list[dict]:
    full = user_sees_personal_data(user)
    return [
        {
            "name": c.full_name if full else mask_name(c.full_name),
            "email": c.email if full else mask_email(c.email),
            "phone": c.phone if full else mask_phone(c.phone),
        }
        for c in contacts_possibly_same(ticket.requester)
    ]


def render_ticket_page(model_admin, request, ticket: Ticket, *, bound=None, collisions=None):
    bound = bound or {}
    workspace = ticket_workspace(ticket)
    reply_form = bound.get("reply") or wforms.ReplyForm(
        initial={"last_message_id": workspace.last_message_id}
    )
    needs_email = ticket.channel == Ticket.Channel.PHONE and not ticket.requester.email
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"{ticket.reference}: {ticket.subject}",
        "ticket": ticket,
        "original": ticket,
        "workspace": workspace,
        "sla": ticket_sla_state(ticket),
        "resolution": ticket_resolution_state(ticket),
        "department": ticket_department_state(ticket),
        "requester": _requester_display(ticket, request.user),
        "same_person": _same_person(ticket, request.user),
        "can_change": model_admin.has_change_permission(request, ticket),
        "reply_form": reply_form,
        "properties_form": bound.get("properties") or wforms.TicketPropertiesForm(ticket=ticket),
        "escalate_form": bound.get("escalate") or wforms.EscalateForm(),
        "redirect_form": bound.get("redirect") or wforms.RedirectForm(),
        "link_form": bound.get("link") or wforms.LinkForm(),
        "continue_form": bound.get("continue") or wforms.ContinueForm(),
        "merge_form": bound.get("merge") or wforms.MergeForm(),
        "needs_email": needs_email,
        "canned": canned_responses_for(ticket, request.user),
        "kb_articles": kb_suggestions(ticket),
        "viewers": ticket_viewer_touch(ticket_id=ticket.pk, user=request.user),
        "heartbeat_seconds": HEARTBEAT_SECONDS,
        "collisions": collisions or [],
        "presence_url": reverse("admin:tickets_ticket_presence", args=[ticket.pk]),
        "media": model_admin.media,
        # Other apps' panels (telephony's call log), see tickets/admin/panels.py.
        "panels": ticket_panels_render(request, ticket),
    }
    if context["requester"]["full"]:
        # 152-FZ: who opened whose personal data is recorded (the label names no person).
        audit_record(
            "personal_data.viewed",
            request=request,
            obj=ticket,
            object_label=ticket.reference,
            details={"contact": ticket.requester_id},
        )
    return TemplateResponse(request, "admin/tickets/ticket/workspace.html", context)


def ticket_page(model_admin, request, ticket_id):
    ticket = _ticket_for(request, ticket_id)
    if request.method != "POST":
        return render_ticket_page(model_admin, request, ticket)
    if not model_admin.has_change_permission(request, ticket):
        raise PermissionDenied
    action = request.POST.get("_action", "")
    handler = _HANDLERS.get(action)
    if handler is None:
        messages.error(request, _("Unknown action."))
        return HttpResponseRedirect(_change_url(ticket))
    return handler(model_admin, request, ticket)


def _reply(model_admin, request, ticket):
    form = wforms.ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return render_ticket_page(model_admin, request, ticket, bound={"reply": form})
    data = form.cleaned_data
    if not data["force"] and data["last_message_id"] is not None:
        others = messages_since(
            ticket=ticket, after_id=data["last_message_id"], exclude_user=request.user
        )
        if others:
            # Someone else wrote meanwhile: show it and let the operator decide.
            form = wforms.ReplyForm(
                initial={
                    "text": data["text"],
                    "mode": data["mode"],
                    "last_message_id": data["last_message_id"],
                    "force": True,
                }
            )
            return render_ticket_page(
                model_admin, request, ticket, bound={"reply": form}, collisions=others
            )
    is_internal = data["mode"] == wforms.ReplyForm.MODE_INTERNAL
    resolve = "_resolve" in request.POST
    try:
        services.message_add_reply(
            ticket=ticket,
            author=request.user,
            text=data["text"],
            is_internal=is_internal,
            attachments=data["files"],
            resolve=resolve and not is_internal,
        )
        if resolve and is_internal:
            services.ticket_set_status(
                ticket=ticket, status=Ticket.Status.RESOLVED, actor=request.user
            )
    except ValidationError as exc:
        _add_errors(form, exc)
        return render_ticket_page(model_admin, request, ticket, bound={"reply": form})
    if is_internal:
        messages.success(request, _("Internal note added."))
    else:
        messages.success(request, _("Reply sent."))
    return HttpResponseRedirect(_change_url(ticket))


def _properties(model_admin, request, ticket):
    form = wforms.TicketPropertiesForm(request.POST, ticket=ticket)
    if not form.is_valid():
        return render_ticket_page(model_admin, request, ticket, bound={"properties": form})
    data = form.cleaned_data
    loaded_at = parse_datetime(data["loaded_at"] or "")
    if not data["force"] and loaded_at and ticket.updated_at > loaded_at:
        # Someone changed the ticket after this page was loaded: show it, don't overwrite.
        form = wforms.TicketPropertiesForm(
            initial={**dict(request.POST.items()), "force": True}, ticket=ticket
        )
        form.stale = True
        return render_ticket_page(model_admin, request, ticket, bound={"properties": form})
    try:
        with transaction.atomic():
            current = services.ticket_update_fields(
                ticket=ticket,
                actor=request.user,
                queue=data["queue"],
                priority=data["priority"],
                kind=data["kind"],
            )
            if (data["assignee"].pk if data["assignee"] else None) != current.assignee_id:
                current = services.ticket_assign(
                    ticket=current, assignee=data["assignee"], actor=request.user
                )
            if data["status"] != current.status:
                services.ticket_set_status(
                    ticket=current, status=data["status"], actor=request.user
                )
    except ValidationError as exc:
        _add_errors(form, exc)
        return render_ticket_page(model_admin, request, ticket, bound={"properties": form})
    messages.success(request, _("Ticket updated."))
    return HttpResponseRedirect(_change_url(ticket))


def _form_action(model_admin, request, ticket, key: str, form, call, done: str):
    """A side-panel form: valid input goes to one service (`call(data)`); its refusal
    shows on the form, success redirects back with `done`."""
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, done)
            return HttpResponseRedirect(_change_url(ticket))
    return render_ticket_page(model_admin, request, ticket, bound={key: form})


def _escalate(model_admin, request, ticket):
    def escalate(data):
        services.ticket_escalate(
            ticket=ticket,
            actor=request.user,
            group=data["group"],
            requester_email=data["requester_email"] or "",
            note=data["note"],
            checklist=data["checklist"],
        )

    form = wforms.EscalateForm(request.POST)
    done = _("Handed to the second line.")
    return _form_action(model_admin, request, ticket, "escalate", form, escalate, done)


def _redirect(model_admin, request, ticket):
    form = wforms.RedirectForm(request.POST)
    done = _("The citizen was told where to turn; ticket resolved.")
    return _form_action(
        model_admin,
        request,
        ticket,
        "redirect",
        form,
        lambda data: services.ticket_redirect(
            ticket=ticket, actor=request.user, where=data["where"], what=data["what"]
        ),
        done,
    )


def _link(model_admin, request, ticket):
    form = wforms.LinkForm(request.POST)
    if form.is_valid():
        target = _ticket_by_number(request, form.cleaned_data["number"])
        if target is None:
            form.add_error("number", _("No such ticket."))
        else:
            try:
                services.ticket_link(
                    source=ticket,
                    target=target,
                    kind=form.cleaned_data["kind"],
                    actor=request.user,
                )
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(request, _("Linked to %(ref)s.") % {"ref": target.reference})
                return HttpResponseRedirect(_change_url(ticket))
    return render_ticket_page(model_admin, request, ticket, bound={"link": form})


def _unlink(model_admin, request, ticket):
    form = wforms.UnlinkForm(request.POST)
    if form.is_valid():
        target = _visible(request).filter(pk=form.cleaned_data["target"]).first()
        if target is not None:
            services.ticket_unlink(
                source=ticket, target=target, kind=form.cleaned_data["kind"], actor=request.user
            )
            messages.success(request, _("Link removed."))
    return HttpResponseRedirect(_change_url(ticket))


def _continue(model_admin, request, ticket):
    form = wforms.ContinueForm(request.POST)
    if not form.is_valid():
        return render_ticket_page(model_admin, request, ticket, bound={"continue": form})
    new = services.ticket_continue_in_new(
        ticket=ticket,
        text=form.cleaned_data["text"],
        subject=form.cleaned_data["subject"],
        channel=ticket.channel,
        actor=request.user,
    )
    messages.success(
        request,
        _("%(new)s continues %(old)s.") % {"new": new.reference, "old": ticket.reference},
    )
    return HttpResponseRedirect(_change_url(new))


def _merge(model_admin, request, ticket):
    form = wforms.MergeForm(request.POST)
    if form.is_valid():
        target = _ticket_by_number(request, form.cleaned_data["number"])
        if target is None:
            form.add_error("number", _("No such ticket."))
        else:
            try:
                services.ticket_merge(source=ticket, target=target, actor=request.user)
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("%(source)s merged into %(target)s.")
                    % {"source": ticket.reference, "target": target.reference},
                )
                return HttpResponseRedirect(_change_url(target))
    return render_ticket_page(model_admin, request, ticket, bound={"merge": form})


def _rotate_status_link(model_admin, request, ticket):
    ticket = services.ticket_status_token_rotate(ticket=ticket, actor=request.user)
    if ticket.requester.email:
        messages.success(request, _("The status link was re-issued and mailed to the requester."))
    else:
        messages.success(
            request,
            _(
                "The status link was re-issued. The requester has no e-mail: "
                "give them the new link: %(url)s"
            )
            % {"url": f"{settings.SITE_URL}{ticket.get_status_url()}"},
        )
    return HttpResponseRedirect(_change_url(ticket))


_HANDLERS = {
    "reply": _reply,
    "properties": _properties,
    "escalate": _escalate,
    "redirect": _redirect,
    "link": _link,
    "unlink": _unlink,
    "continue": _continue,
    "merge": _merge,
    "rotate_status_link": _rotate_status_link,
}


def presence(model_admin, request, ticket_id):
    """Heartbeat of an open ticket page: who else is viewing, and the newest message."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    ticket = _ticket_for(request, ticket_id)
    viewers = ticket_viewer_touch(ticket_id=ticket.pk, user=request.user)
    last = ticket.messages.order_by("-id").values_list("id", flat=True).first() or 0
    return JsonResponse({"viewers": viewers, "last_message_id": last})


def attachment_download(model_admin, request, ticket_id, attachment_id):
    """Files are not public: staff download them here, after the visibility check."""
    attachment = access_attachment_for_staff(request.user, attachment_id, ticket_id=ticket_id)
    return attachment_response(attachment, inline=request.GET.get("inline") == "1", max_age=3600)


# --- Register call -------------------------------------------------------------------


def register_call(model_admin, request):
    search_form = wforms.CallSearchForm(request.GET or None)
    results = []
    if search_form.is_bound and search_form.is_valid():
        results = tickets_for_call(
            user=request.user,
            query=search_form.cleaned_data["q"],
            on_date=search_form.cleaned_data["on_date"],
        )
    selected = None
    selected_id = request.POST.get("ticket") or request.GET.get("ticket")
    if selected_id and str(selected_id).isdigit():
        selected = (
            _visible(request).select_related("queue", "requester").filter(pk=selected_id).first()
        )
    if request.method == "POST":
        if not model_admin.has_change_permission(request):
            raise PermissionDenied
        form = wforms.CallForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = call_register(
                    operator=request.user,
                    ticket=selected,
                    text=data["text"],
                    queue=data["queue"],
                    kind=data["kind"],
                    subject=data["subject"],
                    full_name=data["full_name"],
                    phone=data["phone"],
                    email=data["email"] or "",
                    inn=data["inn"],
                    solved=data["solved"],
                    escalate=data["escalate"],
                    group=data["group"],
                    callback=data["callback"],
                )
            except ValidationError as exc:
                _add_errors(form, exc, {"requester_email": "email"})
            else:
                return HttpResponseRedirect(
                    reverse("admin:tickets_ticket_register_call_done", args=[ticket.pk])
                )
        form.focus_first_error(search_form)
    else:
        initial = {"kind": Ticket.Kind.QUESTION}
        if selected is None and search_form.is_bound and search_form.is_valid():
            query = search_form.cleaned_data["q"]
            if "@" in query:
                initial["email"] = query
            elif query and query.lstrip("+").replace(" ", "").replace("-", "").isdigit():
                initial["phone"] = query
            elif query:
                initial["full_name"] = query
        form = wforms.CallForm(initial=initial)
    results_display = [
        {
            "ticket": t,
            # Lists mask personal data (regulation 10); the ticket page shows it in full.
            "requester": _requester_masked(t),
            "sla": ticket_sla_state(t),
        }
        for t in results
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Register a call"),
        "search_form": search_form,
        "results": results_display,
        "searched": search_form.is_bound,
        "selected": selected,
        "selected_requester": _requester_masked(selected) if selected else None,
        "form": form,
        "media": model_admin.media,
    }
    return TemplateResponse(request, "admin/tickets/ticket/register_call.html", context)


def register_call_done(model_admin, request, ticket_id):
    ticket = _ticket_for(request, ticket_id)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Call registered"),
        "ticket": ticket,
        "sla": ticket_sla_state(ticket),
        "link_kinds": TicketLink.Kind,
        "media": model_admin.media,
    }
    return TemplateResponse(request, "admin/tickets/ticket/register_call_done.html", context)
