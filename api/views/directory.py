"""Contacts (look-up by e-mail, phone in any Russian format, INN), queues, canned answers."""

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView

from api import serializers as s
from api.access import api_queues, api_tickets, api_worked_queues
from api.pagination import SlugCursorPagination
from api.presenters import requester_view, shows_personal_data
from audit.services import audit_record
from tickets.models import CannedResponse, Contact, Ticket
from tickets.validators import normalize_phone

LOOKUPS = ("email", "phone", "inn")


class ContactListView(GenericAPIView):
    read_scope = "contacts:read"
    serializer_class = s.ContactSerializer
    pagination_class = SlugCursorPagination

    @extend_schema(
        summary="Look up contacts / Поиск заявителя",
        operation_id="contacts_list",
        responses=s.ContactSerializer(many=True),
        parameters=[
            OpenApiParameter("email", str, description="Exact e-mail (case-insensitive)."),
            OpenApiParameter(
                "phone", str, description="Any Russian format: +7 900 123-45-67, 89001234567…"
            ),
            OpenApiParameter("inn", str, description="10 or 12 digits."),
        ],
        description="Exactly one of email, phone, inn. Only requesters of tickets the "
        "caller may see are found. An exact look-up answers “is this person on file?”, so "
        "it needs the permission to see personal data (as the admin's contact search); "
        "each look-up that finds someone is recorded in the audit log.",
    )
    def get(self, request):
        if not shows_personal_data(request):
            raise PermissionDenied(
                _("Looking up contacts needs the permission to see personal data."),
                code="no_personal_data_permission",
            )
        given = {name: request.query_params.get(name, "").strip() for name in LOOKUPS}
        given = {name: value for name, value in given.items() if value}
        if len(given) != 1:
            raise ValidationError(
                {"non_field_errors": [_("Give exactly one of: email, phone, inn.")]}
            )
        ((name, value),) = given.items()
        if name == "email":
            condition = Q(email=value.lower())
        elif name == "phone":
            phone = normalize_phone(value)
            if len(phone) < 11:
                raise ValidationError({"phone": [_("Enter a full phone number.")]})
            condition = Q(phone=phone)
        else:
            condition = Q(inn="".join(value.split()))
        visible = api_tickets(request, Ticket.objects.all()).filter(requester=OuterRef("pk"))
        queryset = Contact.objects.filter(condition).filter(Exists(visible))
        page = self.paginate_queryset(queryset)
        if page:
            audit_record(
                "personal_data.viewed",
                actor=request.user,
                request=request._request,
                object_label=f"api contacts lookup by {name}",
                details={"contacts": [contact.pk for contact in page], "via": "api"},
            )
        data = [requester_view(contact, full=True) for contact in page]
        return self.get_paginated_response(s.ContactSerializer(data, many=True).data)


class QueueListView(GenericAPIView):
    serializer_class = s.QueueSerializer
    pagination_class = SlugCursorPagination

    @extend_schema(
        summary="Queues / Очереди",
        operation_id="queues_list",
        responses=s.QueueSerializer(many=True),
    )
    def get(self, request):
        page = self.paginate_queryset(api_queues(request))
        return self.get_paginated_response(s.QueueSerializer(page, many=True).data)


class CannedResponseListView(GenericAPIView):
    serializer_class = s.CannedResponseSerializer
    pagination_class = SlugCursorPagination

    @extend_schema(
        summary="Canned answers / Шаблоны ответов",
        operation_id="canned_responses_list",
        responses=s.CannedResponseSerializer(many=True),
        parameters=[OpenApiParameter("queue", int, description="Only this queue's (and common).")],
        description="Active canned answers for the caller's queues and the common ones; "
        "placeholders {number}, {name}, {subject}, {operator} are left in.",
    )
    def get(self, request):
        queues = api_worked_queues(request)
        queue = request.query_params.get("queue", "")
        if queue:
            if not queue.isdigit():
                raise ValidationError({"queue": [_("A queue id.")]})
            queues = queues.filter(pk=int(queue))
        queryset = CannedResponse.objects.filter(is_active=True).filter(
            Q(queue__isnull=True) | Q(queue__in=queues)
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.CannedResponseSerializer(page, many=True).data)
