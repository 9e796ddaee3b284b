"""HTTP side of the chat: the page, the embeddable widget loader, the pre-chat step that
issues the signed chat token, file uploads and downloads, the transcript request, and the
operator console page (staff only, mounted in the admin).

The citizen endpoints authenticate with the signed chat token sent in a header or field,
never with a cookie, so they are exempt from CSRF: a cross-site page cannot borrow any
ambient credential through them, and in the embedded iframe on another site the CSRF
cookie would not even be sent. Starting chats is rate-limited per client IP instead.
"""

import json

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from chat import access, lines, selectors, services
from chat.forms import ChatRatingForm, ChatStartForm
from chat.models import ChatSession
from tickets.access import access_attachment_for_staff
from tickets.citizen_time import citizen_datetime, queue_time_zone
from tickets.downloads import attachment_response
from tickets.forms import CallbackForm
from tickets.lookup_limits import lookup_targets_limited
from tickets.numbering import format_ticket_number, parse_ticket_number
from tickets.ratelimit import request_rate_limited
from tickets.selectors import queues_for_appeal
from tickets.selectors_admin import mask_email
from tickets.selectors_callbacks import callback_promise, ticket_open_callback
from tickets.services.tickets import ESCALATION_NOTE_REQUIRED


def _token(request: HttpRequest) -> str:
    return request.headers.get("X-Chat-Token") or request.POST.get("token") or ""


def _activate_requested_language(request: HttpRequest) -> None:
    """The widget passes the host page's language (?lang=en) into the iframe."""
    lang = request.GET.get("lang", "")
    if lang in dict(settings.LANGUAGES):
        translation.activate(lang)
        request.LANGUAGE_CODE = lang


def _errors(exc_or_form) -> dict:
    if isinstance(exc_or_form, ValidationError):
        if hasattr(exc_or_form, "error_dict"):
            return {
                k: [str(m) for e in v for m in e.messages]
                for k, v in exc_or_form.error_dict.items()
            }
        return {"__all__": exc_or_form.messages}
    return {k: [str(m) for m in v] for k, v in exc_or_form.errors.items()}


# The words under the rating's five stars, worst first.
RATING_CHOICES = [
    (1, gettext_lazy("very poor")),
    (2, gettext_lazy("poor")),
    (3, gettext_lazy("fair")),
    (4, gettext_lazy("good")),
    (5, gettext_lazy("excellent")),
]


def _citizen_strings() -> dict:
    return {
        "you": _("You"),
        "operator": _("Operator"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "waiting": _("Waiting for an operator."),
        "position": _("You are number %(position)s in the line."),
        "eta": _("Estimated wait: about %(minutes)s min."),
        "joined": _("%(name)s joined the chat."),
        "transferred": _("Your chat was handed to %(name)s."),
        "ended": _("The chat has ended."),
        "escalated": _(
            "Your question was handed to specialists. The answer will come under number %(number)s."
        ),
        "typing": _("The operator is typing…"),
        "sending": _("sending"),
        "sent": _("sent"),
        "delivered": _("delivered"),
        "failed": _("not sent"),
        "tooLong": _("The message is too long: at most %(n)s characters."),
        "tooFast": _("You are sending too fast."),
        "uploading": _("Uploading %(name)s…"),
        "tooBig": _("“%(name)s” is too large."),
        "badType": _("“%(name)s”: files of this type are not accepted."),
        "transcriptSent": _("The transcript has been sent to %(email)s."),
        "transcriptTo": _("Send the transcript to %(email)s"),
        "invalidToken": _("This chat is not valid any more. Please start a new one."),
        "rated": _("Thank you! You rated the chat %(rating)s of 5."),
        "chooseRating": _("Choose a rating from 1 to 5."),
    }


@never_cache
@require_GET
def chat_page(request: HttpRequest) -> HttpResponse:
    _activate_requested_language(request)
    embed = request.GET.get("embed") == "1"
    context = {
        "embed": embed,
        "form": ChatStartForm(auto_id="cs-%s"),
        "callback_form": CallbackForm(auto_id="cb-%s"),
        "queues": queues_for_appeal(),
        "online": selectors.operators_available().exists(),
        # Clearly an example (and in the configured prefix), never a number to copy.
        "example_number": format_ticket_number(42),
        "rating_choices": RATING_CHOICES,
        "rating_comment_max": services.RATING_COMMENT_MAX_CHARS,
        "config": {
            "startUrl": reverse("chat:start"),
            "uploadUrl": reverse("chat:upload"),
            "transcriptUrl": reverse("chat:transcript"),
            "ratingUrl": reverse("chat:rating"),
            "callbackUrl": reverse("chat:callback"),
            "wsPath": "/ws/chat/",
            "maxChars": settings.CHAT_MESSAGE_MAX_CHARS,
            "maxBytes": settings.UPLOAD_MAX_BYTES,
            "extensions": settings.UPLOAD_ALLOWED_EXTENSIONS,
            "lang": translation.get_language(),
            "strings": _citizen_strings(),
        },
    }
    response = render(request, "chat/embed.html" if embed else "chat/page.html", context)
    if embed:
        # The widget shows this page in an iframe on other sites.
        response.xframe_options_exempt = True
    return response


@csrf_exempt
@never_cache
@require_POST
def chat_start_view(request: HttpRequest) -> JsonResponse:
    _activate_requested_language(request)
    if request_rate_limited(request, scope="chat_start", limit=settings.CHAT_START_RATE_LIMIT):
        return JsonResponse(
            {"errors": {"__all__": [_("Too many chats from your address. Try later.")]}},
            status=429,
        )
    form = ChatStartForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": _errors(form)}, status=400)
    data = form.cleaned_data
    if data["number"] and lookup_targets_limited(
        number=parse_ticket_number(data["number"]), contacts=(data["email"], data["phone"])
    ):
        return JsonResponse(
            {"errors": {"__all__": [_("Too many attempts with this number. Try later.")]}},
            status=429,
        )
    try:
        session = services.chat_start(
            queue=data["queue"],
            full_name=data["full_name"],
            email=data["email"],
            phone=data["phone"],
            number=data["number"],
            text=data["text"],
            language=translation.get_language() or settings.LANGUAGE_CODE,
            callback=form.callback_wish(data["phone"]) if data["callback"] else None,
        )
    except ValidationError as exc:
        return JsonResponse({"errors": _errors(exc)}, status=400)
    ticket = session.ticket
    due = ticket.first_response_due
    callback = ticket_open_callback(ticket) if data["callback"] else None
    return JsonResponse(
        {
            # «Мы перезвоним вам …», the window in the queue's time zone.
            "callback": callback_promise(callback) if callback else "",
            "session": session.pk,
            "status": session.status,
            "number": ticket.reference,
            "token": selectors.chat_token_for(session),
            "due": citizen_datetime(due, queue_time_zone(ticket.queue)),
            "due_text": _("The answer is due by %(due)s.")
            % {"due": citizen_datetime(due, queue_time_zone(ticket.queue))}
            if due
            else "",
            # Where the transcript can go, masked; never the requester's address on file.
            "email": mask_email(services.transcript_recipient(session)),
        }
    )


@csrf_exempt
@never_cache
@require_POST
def chat_upload(request: HttpRequest) -> JsonResponse:
    session = selectors.access_chat_for_citizen(_token(request))
    if session is None:
        return JsonResponse({"errors": {"__all__": [_("This chat is not valid.")]}}, status=403)
    return _upload(request, session=session, operator=None)


@staff_member_required
@never_cache
@require_POST
def console_upload(request: HttpRequest) -> JsonResponse:
    if not access.user_operates_chat(request.user):
        raise PermissionDenied
    session_id = request.POST.get("session") or ""
    session = ChatSession.objects.filter(pk=int(session_id) if session_id.isdigit() else 0).first()
    if session is None:
        raise Http404
    # chat_files_add refuses a chat that is not this operator's own.
    return _upload(request, session=session, operator=request.user)


def _upload(request: HttpRequest, *, session: ChatSession, operator) -> JsonResponse:
    files = request.FILES.getlist("file")
    if not files:
        return JsonResponse({"errors": {"file": [_("Choose a file.")]}}, status=400)
    try:
        message = lines.chat_files_add(
            session=session, files=files, operator=operator, text=request.POST.get("text", "")
        )
    except ValidationError as exc:
        return JsonResponse({"errors": {"file": exc.messages}}, status=400)
    except services.ChatError as exc:
        return JsonResponse({"errors": {"__all__": [exc.message]}}, status=409)
    return JsonResponse({"line": selectors.line_payload(message)})


@never_cache
@require_GET
def chat_file(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """A file of a chat: for the citizen with the chat token (?t=), or for staff who may
    see its ticket (tickets.access)."""
    session = selectors.access_chat_for_citizen(request.GET.get("t"))
    if session is not None:
        attachment = selectors.session_attachment(session, attachment_id)
        if attachment is None:
            raise Http404
    elif request.user.is_authenticated:
        attachment = access_attachment_for_staff(request.user, attachment_id)
    else:
        raise Http404
    # Raster images are shown inline in the chat; anything else is only ever downloaded.
    return attachment_response(attachment, inline=True)


def _citizen_chat(request: HttpRequest, *, scope: str) -> ChatSession | JsonResponse:
    """The chat the request's token opens, or the refusal to send: 403 without a valid
    token, 429 past 10 requests of this kind from one address."""
    session = selectors.access_chat_for_citizen(_token(request))
    if session is None:
        return JsonResponse({"errors": {"__all__": [_("This chat is not valid.")]}}, status=403)
    if request_rate_limited(request, scope=scope, limit=10):
        return JsonResponse(
            {"errors": {"__all__": [_("Too many requests. Try later.")]}}, status=429
        )
    return session


@csrf_exempt
@never_cache
@require_POST
def chat_transcript(request: HttpRequest) -> JsonResponse:
    session = _citizen_chat(request, scope="chat_transcript")
    if isinstance(session, JsonResponse):
        return session
    try:
        services.chat_transcript_send(session=session)
    except ValidationError as exc:
        return JsonResponse({"errors": _errors(exc)}, status=400)
    return JsonResponse({"ok": True, "email": mask_email(services.transcript_recipient(session))})


@csrf_exempt
@never_cache
@require_POST
def chat_rating(request: HttpRequest) -> JsonResponse:
    """The citizen rates their chat once it has ended. The chat is the one the signed token
    opens, never one named in the request; a second rating returns the first."""
    session = _citizen_chat(request, scope="chat_rating")
    if isinstance(session, JsonResponse):
        return session
    form = ChatRatingForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"errors": _errors(form)}, status=400)
    try:
        session, created = services.chat_rate(
            session=session,
            rating=form.cleaned_data["rating"],
            comment=form.cleaned_data["comment"],
        )
    except services.ChatError as exc:
        return JsonResponse({"errors": {"__all__": [exc.message]}}, status=409)
    return JsonResponse({"ok": True, "rating": session.rating, "already": not created})


@csrf_exempt
@never_cache
@require_POST
def chat_callback(request: HttpRequest) -> JsonResponse:
    """«Перезвоните мне» during the chat the signed token opens (never one named in the
    request): the call-back goes on that chat's ticket; the answer is «Мы перезвоним вам …»."""
    session = _citizen_chat(request, scope="chat_callback")
    if isinstance(session, JsonResponse):
        return session
    form = CallbackForm(request.POST, queue=session.queue)
    if not form.is_valid():
        return JsonResponse({"errors": _errors(form)}, status=400)
    try:
        callback = services.chat_callback_request(
            session=session, wish=form.callback_wish(form.cleaned_data["phone"])
        )
    except ValidationError as exc:
        return JsonResponse({"errors": _errors(exc)}, status=400)
    except services.ChatError as exc:
        return JsonResponse({"errors": {"__all__": [exc.message]}}, status=409)
    return JsonResponse({"ok": True, "callback": callback_promise(callback)})


@require_GET
@cache_control(max_age=3600, public=True)
def widget_js(request: HttpRequest) -> HttpResponse:
    """The loader other sites embed: <script src="https://host/chat/widget.js"></script>."""
    base = request.build_absolute_uri("/").rstrip("/")
    labels = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            labels[code] = {"open": _("Chat with support"), "close": _("Close the chat")}
    script = render(
        request,
        "chat/widget.js",
        {"base_json": json.dumps(base), "labels_json": json.dumps(labels, ensure_ascii=False)},
        content_type="text/javascript; charset=utf-8",
    )
    script["Access-Control-Allow-Origin"] = "*"
    return script


@staff_member_required
@never_cache
def console(request: HttpRequest, admin_context: dict | None = None) -> HttpResponse:
    """The operator console; everything live happens over /ws/chat/operator/."""
    if not access.user_operates_chat(request.user):
        raise PermissionDenied
    context = {
        **(admin_context or {}),
        "title": _("Chat console"),
        "config": {
            "wsPath": "/ws/chat/operator/",
            "uploadUrl": reverse("chat:console_upload"),
            "ticketUrl": "/admin/tickets/ticket/0/change/",
            "maxChars": settings.CHAT_MESSAGE_MAX_CHARS,
        },
    }
    context["strings"] = {
        "connected": _("connected"),
        "reconnecting": _("reconnecting…"),
        "forbidden": _("You may not use the chat console."),
        "accept": _("Accept"),
        "openTicket": _("Open ticket %(number)s"),
        "line2": _("Second line (escalate)"),
        "transferTo": _("Transfer to…"),
        "noteRequired": str(ESCALATION_NOTE_REQUIRED),
        "waited": _("waiting %(time)s"),
        "ended": _("The chat has ended."),
        "endedBy": {
            "citizen": _("The citizen ended the chat."),
            "operator": _("You ended the chat."),
            "escalated": _("Handed to the second line."),
        },
        "transferred": _("The chat was handed to another operator."),
        "close": _("Close"),
        "confirmEnd": _("End this chat?"),
        "you": _("You"),
        "citizen": _("Citizen"),
        "note": _("internal note"),
        "full": _("You already have as many chats as you can take."),
        "auto": _("automatic"),
        "manual": _("manual"),
        "noKb": _("Nothing found in the knowledge base."),
    }
    return render(request, "chat/console.html", context)
