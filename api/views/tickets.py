"""Tickets: list, retrieve (ETag), create (the web form's service), reply or note,
transition, escalate, redirect with guidance, link, assign, attachment download."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db.models import OuterRef, Prefetch, Subquery
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers as s
from api.access import api_has_scope, api_ticket, api_tickets, token_queue_ids
from api.filters import tickets_filter
from api.pagination import flag_check
from api.presenters import shows_personal_data, ticket_etag
from audit.services import audit_record
from tickets import services
from tickets.access import access_attachment_for_staff
from tickets.downloads import attachment_response
from tickets.forms import AppealForm
from tickets.intake.web import appeal_submit
from tickets.models import Attachment, CallbackRequest, Message, Ticket, TicketEvent, TicketLink
from tickets.numbering import parse_ticket_number
from tickets.selectors import staff_users
from tickets.services import CallbackWish

INTERNAL_SCOPE = "tickets:internal"
PERSONAL_DATA_SCOPE = "contacts:read"

_TICKET_RELATED = ("queue", "requester", "assignee", "assigned_group")


def _tickets():
    return Ticket.objects.select_related(*_TICKET_RELATED)


def _ticket_for_write(request, pk) -> Ticket:
    return api_ticket(request, pk, _tickets())


def _ticket_response(request, ticket: Ticket, status_code=status.HTTP_200_OK) -> Response:
    ticket = _tickets().get(pk=ticket.pk)
    return Response(s.TicketSerializer(ticket).data, status=status_code)


def _raise_form_errors(form) -> None:
    fields = {
        ("non_field_errors" if name == "__all__" else name): list(errors)
        for name, errors in form.errors.items()
    }
    raise ValidationError(fields)


class TicketListView(GenericAPIView):
    serializer_class = s.TicketSerializer

    @extend_schema(
        summary="Tickets / Обращения",
        operation_id="tickets_list",
        responses=s.TicketSerializer(many=True),
        parameters=[s.TicketFilterSerializer],
        description="Tickets the caller may see (its user's queues, narrowed to the "
        "token's queues), newest first. Requesters are masked in lists.",
    )
    def get(self, request):
        # A plain dict: an empty parameter is a bad value, not a missing one.
        params = s.TicketFilterSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        queryset = tickets_filter(
            api_tickets(request, _tickets()), params.validated_data, user=request.user
        )
        page = self.paginate_queryset(queryset)
        data = s.TicketSerializer(page, many=True, context={"now": timezone.now()}).data
        return self.get_paginated_response(data)

    @extend_schema(
        summary="Create an appeal / Зарегистрировать обращение",
        operation_id="tickets_create",
        request=s.TicketCreateSerializer,
        responses={
            201: inline_serializer(
                "TicketCreated",
                {"ticket": s.TicketSerializer(), "status_url": serializers.URLField()},
            )
        },
        description="Files an appeal on behalf of a citizen through the same service and "
        "rules as the public form: number, SLA, auto-reply with the number and deadline. "
        "`status_url` is the citizen's private status link (as the form's success page "
        "shows it).",
    )
    def post(self, request):
        body = s.TicketCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        queue_ids = token_queue_ids(request)
        if queue_ids is not None and data["queue"] not in queue_ids:
            raise ValidationError({"queue": [_("This token may not file appeals in this queue.")]})
        form = AppealForm(
            data={
                "full_name": data["full_name"],
                "email": data["email"],
                "phone": data["phone"],
                "queue": data["queue"],
                "kind": data["kind"],
                "subject": data["subject"],
                "text": data["text"],
                "inn": data["inn"],
                "consent": "on" if data["consent"] else "",
            }
        )
        if not form.is_valid():
            _raise_form_errors(form)
        cleaned = form.cleaned_data
        result = appeal_submit(
            full_name=cleaned["full_name"],
            email=cleaned["email"],
            phone=cleaned["phone"],
            queue=cleaned["queue"],
            kind=cleaned["kind"],
            subject=cleaned["subject"],
            text=cleaned["text"],
            inn=cleaned["inn"],
            language=translation.get_language() or settings.LANGUAGE_CODE,
            channel=data["channel"],
            callback=_callback_wish(data["callback"], phone=cleaned["phone"]),
            # Filed by staff on the citizen's behalf, as on the admin's phone screen.
            callback_source=CallbackRequest.Source.OPERATOR,
        )
        # The ticket as created, its queue and requester already loaded: re-reading it
        # cost every create a query.
        ticket = result.ticket
        return Response(
            {
                "ticket": s.TicketSerializer(ticket).data,
                "status_url": settings.SITE_URL.rstrip("/") + ticket.get_status_url(),
            },
            status=status.HTTP_201_CREATED,
        )


def _callback_wish(block: dict | None, *, phone: str) -> CallbackWish | None:
    if block is None:
        return None
    return CallbackWish(
        phone=block["phone"] or phone,
        day=block["day"],
        window=block["window"],
        reason=block["reason"],
    )


class TicketDetailView(APIView):
    @extend_schema(
        summary="A ticket with its conversation / Обращение и переписка",
        operation_id="tickets_retrieve",
        parameters=[
            OpenApiParameter(
                "personal_data",
                OpenApiTypes.STR,
                enum=["0", "1"],
                description="1: the requester in full (needs the `contacts:read` scope and "
                "the permission to see personal data; recorded in the audit log).",
            ),
            OpenApiParameter("If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER),
        ],
        responses={200: s.TicketDetailSerializer, 304: OpenApiResponse(description="Not modified")},
    )
    def get(self, request, pk: int):
        last_event = TicketEvent.objects.filter(ticket=OuterRef("pk")).order_by("-id")
        ticket = api_ticket(
            request,
            pk,
            _tickets().annotate(last_event_id=Subquery(last_event.values("id")[:1])),
        )
        internal = api_has_scope(request, INTERNAL_SCOPE)
        flag_check(request, "personal_data", ("0", "1"))
        full = (
            request.query_params.get("personal_data") == "1"
            and api_has_scope(request, PERSONAL_DATA_SCOPE)
            and shows_personal_data(request)
        )
        etag = ticket_etag(
            ticket=ticket,
            last_event_id=ticket.last_event_id or 0,
            variant=f"{int(internal)}{int(full)}",
        )
        if etag in _if_none_match(request):
            response = Response(status=status.HTTP_304_NOT_MODIFIED)
            return _with_etag(response, etag)
        messages = Message.objects.filter(ticket=ticket)
        if not internal:
            messages = messages.filter(is_internal=False)
        messages = (
            messages.select_related("author")
            .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("id")))
            .order_by("created_at", "id")
        )
        links = (
            TicketLink.objects.filter(source=ticket)
            .select_related("target")
            .order_by("kind", "target__number")
        )
        if full:
            # 152-FZ: who opened whose personal data is recorded, as on the admin's page.
            audit_record(
                "personal_data.viewed",
                actor=request.user,
                request=request._request,
                obj=ticket,
                object_label=ticket.reference,
                details={"contact": ticket.requester_id, "via": "api"},
            )
        context = {
            "messages": list(messages),
            "links": list(links),
            "full_requester": full,
            "now": timezone.now(),
        }
        response = Response(s.TicketDetailSerializer(ticket, context=context).data)
        return _with_etag(response, etag)


def _if_none_match(request) -> set[str]:
    header = request.headers.get("If-None-Match", "")
    return {value.strip().removeprefix("W/") for value in header.split(",") if value.strip()}


def _with_etag(response: Response, etag: str) -> Response:
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    patch_vary_headers(response, ["Authorization", "Cookie", "Accept-Language"])
    return response


class TicketMessageCreateView(APIView):
    may_conflict = True  # the ticket's status may not allow it (409)

    @extend_schema(
        summary="Answer or internal note / Ответ или внутренняя заметка",
        operation_id="tickets_messages_create",
        request=s.ReplySerializer,
        responses={201: s.MessageSerializer},
        description="A public answer goes to the citizen (and stops the first-answer "
        "clock); `internal: true` writes a note (needs `tickets:internal`).",
    )
    def post(self, request, pk: int):
        body = s.ReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["internal"] and not api_has_scope(request, INTERNAL_SCOPE):
            raise PermissionDenied(
                _("The token lacks the scope “%(scope)s”.") % {"scope": INTERNAL_SCOPE},
                code="scope_missing",
            )
        ticket = _ticket_for_write(request, pk)
        message = services.message_add_reply(
            ticket=ticket,
            author=request.user,
            text=data["text"],
            is_internal=data["internal"],
            resolve=data["resolve"] and not data["internal"],
        )
        message = (
            Message.objects.select_related("author")
            .prefetch_related("attachments")
            .get(pk=message.pk)
        )
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class TicketTransitionView(APIView):
    may_conflict = True  # the ticket's status may not allow it (409)

    @extend_schema(
        summary="Change the status / Сменить статус",
        operation_id="tickets_transition",
        request=s.TransitionSerializer,
        responses={200: s.TicketSerializer},
        description="Allowed moves: tickets.workflow.TRANSITIONS; any other is 409.",
    )
    def post(self, request, pk: int):
        body = s.TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ticket = _ticket_for_write(request, pk)
        ticket = services.ticket_set_status(
            ticket=ticket,
            status=body.validated_data["status"],
            actor=request.user,
            note=body.validated_data["note"],
        )
        return _ticket_response(request, ticket)


class TicketEscalateView(APIView):
    @extend_schema(
        summary="Hand to the second line / Передать на вторую линию",
        operation_id="tickets_escalate",
        request=s.EscalateSerializer,
        responses={200: s.TicketSerializer},
        description="Hands the ticket to the second line or a department (regulation 6), "
        "as the admin does. `note` is required: without it (or blank) nothing is handed "
        "over and the answer is 400 with the reason on `note`. The department's deadline "
        "(`department_due`) starts now: the department's own hours, else "
        "DEPARTMENT_DEADLINE_HOURS, in the queue's working time.",
    )
    def post(self, request, pk: int):
        body = s.EscalateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        group = None
        if data["group"] is not None:
            group = Group.objects.filter(pk=data["group"]).first()
            if group is None:
                raise ValidationError({"group": [_("No such department.")]})
        ticket = _ticket_for_write(request, pk)
        ticket = services.ticket_escalate(
            ticket=ticket,
            actor=request.user,
            group=group,
            requester_email=data["requester_email"],
            note=data["note"],
            checklist=data["checklist"],
        )
        return _ticket_response(request, ticket)


class TicketRedirectView(APIView):
    may_conflict = True  # only an open ticket can be redirected (409)

    @extend_schema(
        summary="Redirect with guidance / Не по компетенции: куда обратиться",
        operation_id="tickets_redirect",
        request=s.RedirectSerializer,
        responses={200: s.TicketSerializer},
        description="The appeal is outside the line's competence (seed 002 §3.8): the "
        "citizen is told where to turn and what to do there. Both texts are required. "
        "They become the public answer (stopping the first-answer clock) and a mail of "
        "their own to the citizen; the ticket is resolved with `outcome: redirected`, "
        "counted apart on the dashboard — the admin's «Не по компетенции». A ticket that "
        "is not open (already resolved or closed) is 409 `transition_not_allowed`: a "
        "replay after a lost answer changes and sends nothing.",
    )
    def post(self, request, pk: int):
        body = s.RedirectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ticket = _ticket_for_write(request, pk)
        ticket = services.ticket_redirect(
            ticket=ticket,
            actor=request.user,
            where=body.validated_data["where"],
            what=body.validated_data["what"],
        )
        return _ticket_response(request, ticket)


class TicketLinkCreateView(APIView):
    @extend_schema(
        summary="Link two tickets / Связать обращения",
        operation_id="tickets_links_create",
        request=s.LinkCreateSerializer,
        responses={201: s.LinkSerializer},
    )
    def post(self, request, pk: int):
        body = s.LinkCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ticket = _ticket_for_write(request, pk)
        number = parse_ticket_number(body.validated_data["number"])
        target = api_tickets(request).filter(number=number).first() if number else None
        if target is None:
            raise ValidationError({"number": [_("No such ticket.")]})
        link = services.ticket_link(
            source=ticket, target=target, kind=body.validated_data["kind"], actor=request.user
        )
        link = TicketLink.objects.select_related("target").get(pk=link.pk)
        return Response(s.LinkSerializer(link).data, status=status.HTTP_201_CREATED)


class TicketAssignView(APIView):
    @extend_schema(
        summary="Assign / Назначить",
        operation_id="tickets_assign",
        request=s.AssignSerializer,
        responses={200: s.TicketSerializer},
    )
    def post(self, request, pk: int):
        body = s.AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignee = None
        if body.validated_data["assignee"] is not None:
            assignee = staff_users().filter(pk=body.validated_data["assignee"]).first()
            if assignee is None:
                raise ValidationError({"assignee": [_("No such operator.")]})
        ticket = _ticket_for_write(request, pk)
        ticket = services.ticket_assign(ticket=ticket, assignee=assignee, actor=request.user)
        return _ticket_response(request, ticket)


class TicketAttachmentView(APIView):
    @extend_schema(
        summary="Download an attachment / Скачать вложение",
        operation_id="tickets_attachment_download",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, pk: int, attachment_id: int):
        ticket = api_ticket(request, pk)
        attachment = access_attachment_for_staff(request.user, attachment_id, ticket_id=ticket.pk)
        hidden_note = (
            attachment.message_id
            and not api_has_scope(request, INTERNAL_SCOPE)
            and Message.objects.filter(pk=attachment.message_id, is_internal=True).exists()
        )
        if hidden_note:
            raise NotFound
        return attachment_response(attachment)
