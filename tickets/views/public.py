"""Public pages for citizens: the appeal form and the private status page.

Thin adapters: parse the form, call one service or selector, render. A status page
opens only with the secret token; every miss answers with the same "not found" page.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tickets.downloads import attachment_response
from tickets.forms import AppealForm, CallbackForm, ReplyForm, StatusLookupForm
from tickets.intake.web import (
    appeal_callback_request,
    appeal_reply,
    appeal_submit,
    status_lookup_submit,
)
from tickets.lookup_limits import lookup_targets_limited
from tickets.models import Ticket
from tickets.numbering import parse_ticket_number
from tickets.ratelimit import request_rate_limited
from tickets.selectors import (
    access_ticket_for_requester,
    attachment_for_requester,
    ticket_open_callback,
    ticket_public_messages,
)
from tickets.selectors_admin import mask_phone


def not_found(request: HttpRequest) -> HttpResponse:
    """The one answer for an unknown number, a wrong token, or someone else's ticket."""
    return render(request, "404.html", status=404)


def too_many_requests(request: HttpRequest) -> HttpResponse:
    response = render(request, "429.html", status=429)
    response["Retry-After"] = "3600"
    return response


def _private(response: HttpResponse) -> HttpResponse:
    # The token is in the URL: keep it out of Referer headers sent to other sites, and out
    # of search engines. Not "no-referrer": browsers then send `Origin: null` with the
    # reply form, which CSRF protection rightly refuses.
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _add_form_errors(form, exc: ValidationError) -> None:
    """A service refused the input: show its reasons above the form."""
    for message in exc.messages:
        form.add_error(None, message)


@never_cache
@require_http_methods(["GET", "POST"])
def appeal_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if request_rate_limited(request, scope="appeal", limit=settings.APPEAL_RATE_LIMIT):
            return too_many_requests(request)
        form = AppealForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            if data["number"] and lookup_targets_limited(
                number=data["number"], contacts=(data["email"], data["phone"])
            ):
                return too_many_requests(request)
            try:
                result = appeal_submit(
                    full_name=data["full_name"],
                    email=data["email"],
                    phone=data["phone"],
                    queue=data["queue"],
                    kind=data["kind"],
                    subject=data["subject"],
                    text=data["text"],
                    number=data["number"],
                    inn=data["inn"],
                    attachments=data["attachments"],
                    language=translation.get_language() or settings.LANGUAGE_CODE,
                    callback=form.callback_wish(data["phone"]) if data["callback"] else None,
                )
            except ValidationError as exc:
                _add_form_errors(form, exc)
            else:
                ticket = result.ticket
                if result.continued:
                    # Added to an existing appeal on the strength of its number and an
                    # e-mail or phone: that is not enough to hand out its private link.
                    messages.success(
                        request,
                        _(
                            "Your message has been added to appeal %(number)s. Follow the "
                            "appeal at the private link from your confirmation or e-mail."
                        )
                        % {"number": ticket.reference},
                    )
                    url = reverse("tickets:status_lookup")
                    return redirect(f"{url}?{urlencode({'number': ticket.reference})}")
                url = reverse("tickets:appeal_done", args=[ticket.reference])
                return redirect(f"{url}?{urlencode({'t': ticket.token})}")
    else:
        initial = {}
        if request.GET.get("q"):
            initial["subject"] = request.GET["q"][:255]
        if request.GET.get("queue"):
            initial["queue"] = request.GET["queue"]
        form = AppealForm(initial=initial)
    context = {
        "form": form,
        "upload_max_files": settings.UPLOAD_MAX_FILES,
        "upload_max_size": settings.UPLOAD_MAX_BYTES,
        "upload_extensions": ", ".join(settings.UPLOAD_ALLOWED_EXTENSIONS),
    }
    return render(request, "tickets/public/appeal_form.html", context)


@never_cache
def appeal_done(request: HttpRequest, number: str) -> HttpResponse:
    ticket = access_ticket_for_requester(number, request.GET.get("t"))
    if ticket is None:
        return not_found(request)
    context = {
        "ticket": ticket,
        "continued": request.GET.get("added") == "1",
        "status_url": request.build_absolute_uri(ticket.get_status_url()),
        "sla_hours": ticket.queue.sla_first_response_hours,
        "callback": ticket_open_callback(ticket),
        # No e-mail to answer to: the page says how the answer reaches them instead.
        "phone_only": mask_phone(ticket.requester.phone)
        if ticket.requester.phone and not ticket.requester.email
        else "",
    }
    return _private(render(request, "tickets/public/appeal_done.html", context))


@never_cache
@require_http_methods(["GET", "POST"])
def status_lookup(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if request_rate_limited(request, scope="status", limit=settings.STATUS_LOOKUP_RATE_LIMIT):
            return too_many_requests(request)
        form = StatusLookupForm(request.POST)
        if form.is_valid():
            number, contact = form.cleaned_data["number"], form.cleaned_data["contact"]
            if lookup_targets_limited(number=parse_ticket_number(number), contacts=(contact,)):
                return too_many_requests(request)
            found = status_lookup_submit(number=number, contact=contact)
            if found is not None:
                # The status only: the private link (the conversation) goes by mail to
                # the address on file, never to whoever knows a number and a contact.
                context = {"form": StatusLookupForm(), "found": found}
                return render(request, "tickets/public/status_lookup.html", context)
            form.add_error(
                None,
                _(
                    "No appeal was found for this number and e-mail or phone. "
                    "Check both and try again."
                ),
            )
    else:
        form = StatusLookupForm(initial={"number": request.GET.get("number", "")[:40]})
    return render(request, "tickets/public/status_lookup.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
def status(request: HttpRequest, number: str) -> HttpResponse:
    token = request.POST.get("t") if request.method == "POST" else request.GET.get("t")
    ticket = access_ticket_for_requester(number, token)
    if ticket is None:
        return not_found(request)
    return _status_page(request, ticket)


def _status_page(request: HttpRequest, ticket: Ticket, *, callback_form=None) -> HttpResponse:
    form = ReplyForm()
    if request.method == "POST":
        if request_rate_limited(request, scope="appeal", limit=settings.APPEAL_RATE_LIMIT):
            return too_many_requests(request)
        form = ReplyForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                result = appeal_reply(
                    ticket=ticket,
                    text=form.cleaned_data["text"],
                    attachments=form.cleaned_data["attachments"],
                )
            except ValidationError as exc:
                _add_form_errors(form, exc)
            else:
                if result.continued:
                    messages.success(request, _("Your message has been added to the appeal."))
                else:
                    messages.info(
                        request,
                        _(
                            "Appeal %(old)s is closed, so your message was registered as "
                            "a new appeal %(new)s."
                        )
                        % {"old": ticket.reference, "new": result.ticket.reference},
                    )
                return redirect(result.ticket.get_status_url())
    context = {
        "ticket": ticket,
        "token": ticket.token,
        "messages_public": ticket_public_messages(ticket),
        "form": form,
        "is_closed": ticket.status == Ticket.Status.CLOSED,
        "callback": ticket_open_callback(ticket),
        "callback_form": callback_form or CallbackForm(),
    }
    return _private(render(request, "tickets/public/status.html", context))


@never_cache
@require_http_methods(["POST"])
def callback_request(request: HttpRequest, number: str) -> HttpResponse:
    """«Перезвоните мне» from the status page: the same private link opens it (number +
    token, one answer for every miss) and the same hourly allowance per client limits
    it. The phone typed goes on the call-back entry only: nothing about any other
    number or contact is said back."""
    if request_rate_limited(request, scope="callback", limit=settings.APPEAL_RATE_LIMIT):
        return too_many_requests(request)
    ticket = access_ticket_for_requester(number, request.POST.get("t"))
    if ticket is None:
        return not_found(request)
    form = CallbackForm(request.POST)
    if form.is_valid():
        try:
            appeal_callback_request(
                ticket=ticket, wish=form.callback_wish(form.cleaned_data["phone"])
            )
        except ValidationError as exc:
            _add_form_errors(form, exc)
        else:
            messages.success(request, _("We will call you back."))
            return redirect(f"{ticket.get_status_url()}#callback")
    return _status_page(request, ticket, callback_form=form)


@never_cache
def attachment_download(request: HttpRequest, number: str, attachment_id: int) -> HttpResponse:
    ticket = access_ticket_for_requester(number, request.GET.get("t"))
    attachment = attachment_for_requester(ticket, attachment_id) if ticket else None
    if attachment is None:
        return not_found(request)
    try:
        # Always a download, never rendered inline: an uploaded .html/.svg must not run here.
        response = attachment_response(attachment)
    except Http404:
        return not_found(request)
    return _private(response)
