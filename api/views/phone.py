"""Call-backs and the call log: the same staff access layer as the admin's lists
(`callbacks_for_staff`, `calls_for_staff`, `access_callback_for_staff`), narrowed to the
token's queues like tickets. Numbers in full only with the personal-data permission. A
call-back's outcome is recorded through the service the admin's call-back list uses."""

from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api.access import api_callback, token_queue_ids
from api.pagination import IdCursorPagination
from api.presenters import shows_personal_data, user_view
from api.serializers import StrictCharField, StrictIntegerField
from telephony.selectors import calls_for_staff
from tickets.access import callbacks_for_staff
from tickets.models import CallbackRequest
from tickets.selectors_admin import mask_phone
from tickets.services import callback_record_attempt


class CallbackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    ticket = serializers.CharField(help_text="The ticket's number (SP-0042).")
    ticket_id = serializers.IntegerField()
    phone = serializers.CharField(help_text="Masked without the personal-data permission.")
    source = serializers.CharField(help_text="web, status, chat, missed_call, operator")
    window_date = serializers.DateField(allow_null=True)
    window = serializers.CharField(help_text="morning, afternoon, evening or empty.")
    reason = serializers.CharField()
    due_at = serializers.DateTimeField()
    attempts = serializers.IntegerField()
    outcome = serializers.CharField()
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)


class CallRecordSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    call_id = serializers.CharField()
    direction = serializers.CharField(help_text="in or out")
    from_number = serializers.CharField(help_text="Masked without the personal-data permission.")
    to_number = serializers.CharField(help_text="Masked without the personal-data permission.")
    operator = serializers.DictField(allow_null=True, help_text="Who answered.")
    ring_at = serializers.DateTimeField()
    answer_at = serializers.DateTimeField(allow_null=True)
    end_at = serializers.DateTimeField(allow_null=True)
    wait_seconds = serializers.IntegerField(allow_null=True)
    talk_seconds = serializers.IntegerField(allow_null=True)
    cause = serializers.CharField()
    missed = serializers.BooleanField()
    ticket = serializers.CharField(allow_null=True, help_text="The linked ticket's number.")


def _number(value: str, full: bool) -> str:
    # Extensions (201) are not personal data; phone numbers (+7…) are.
    return value if full or not value.startswith("+") else mask_phone(value)


def _since(request, name: str):
    raw = request.query_params.get(name)
    if not raw:
        return None
    value = parse_datetime(raw)
    if value is None:
        raise ValidationError({name: [_("Enter a date and time (ISO 8601).")]})
    return value


class CallbackListView(GenericAPIView):
    read_scope = "tickets:read"
    serializer_class = CallbackSerializer
    pagination_class = IdCursorPagination

    @extend_schema(
        summary="Call-backs / Обратные звонки",
        operation_id="callbacks_list",
        responses=CallbackSerializer(many=True),
        parameters=[
            OpenApiParameter("open", str, enum=["true", "false"], description="Open or closed."),
        ],
        description="Call-back entries of the tickets the caller may see (scope "
        "tickets:read), newest first.",
    )
    def get(self, request):
        queryset = callbacks_for_staff(request.user).select_related("ticket")
        queue_ids = token_queue_ids(request)
        if queue_ids is not None:
            queryset = queryset.filter(ticket__queue_id__in=queue_ids)
        state = request.query_params.get("open")
        if state in ("true", "false"):
            queryset = queryset.filter(closed_at__isnull=state == "true")
        elif state is not None:
            raise ValidationError({"open": [_("true or false.")]})
        full = shows_personal_data(request)
        page = self.paginate_queryset(queryset)
        rows = [_callback_row(c, full) for c in page]
        return self.get_paginated_response(CallbackSerializer(rows, many=True).data)


CALLBACK_FIELDS: list[str] = list(CallbackSerializer().fields.keys())


def _callback_row(callback: CallbackRequest, full: bool) -> dict:
    return {
        **{f: getattr(callback, f) for f in CALLBACK_FIELDS if hasattr(callback, f)},
        "ticket": callback.ticket.reference,
        "phone": callback.phone if full else mask_phone(callback.phone),
    }


class CallbackDetailView(APIView):
    read_scope = "tickets:read"

    @extend_schema(
        summary="A call-back / Обратный звонок",
        operation_id="callbacks_retrieve",
        responses=CallbackSerializer,
        description="One call-back entry (scope tickets:read); `attempts` + 1 is the "
        "`attempt` to send with its next outcome.",
    )
    def get(self, request, pk: int):
        callback = api_callback(request, pk)
        return Response(
            CallbackSerializer(_callback_row(callback, shows_personal_data(request))).data
        )


class CallbackOutcomeSerializer(serializers.Serializer):
    attempt = StrictIntegerField(
        min_value=1,
        max_value=1000,
        help_text="The number of this attempt: the call-back's `attempts` + 1 as last read. "
        "Sending it again after a lost answer records nothing twice.",
    )
    outcome = serializers.ChoiceField(choices=CallbackRequest.Outcome.choices)
    note = StrictCharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Kept on the ticket as an internal note.",
    )


class CallbackOutcomeView(APIView):
    write_scope = "calls:write"
    write_permission = "tickets.change_callbackrequest"
    may_conflict = True

    @extend_schema(
        summary="Record a call-back's outcome / Записать результат обратного звонка",
        operation_id="callbacks_outcome",
        request=CallbackOutcomeSerializer,
        responses={200: CallbackSerializer},
        description="One call attempt and what came of it, as on the admin's call-back list "
        "(scope calls:write and the permission to change call-backs): `reached` and "
        "`reached_solved` (solved during the call: first-contact resolution, the ticket is "
        "resolved) close the entry, `wrong_number` closes it, `no_answer` and `busy` count "
        "a failed attempt (it comes up again later; after CALLBACK_MAX_ATTEMPTS it closes "
        "and the citizen is told by mail). Idempotent: the same `attempt` with the same "
        "outcome again answers 200 with the header `Idempotent-Replayed: true` and records "
        "nothing; a stale or skipped `attempt`, or a closed entry, is 409.",
    )
    def post(self, request, pk: int):
        body = CallbackOutcomeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        callback = api_callback(request, pk)
        callback, replayed = callback_record_attempt(
            callback=callback,
            attempt=data["attempt"],
            outcome=data["outcome"],
            actor=request.user,
            note=data["note"],
        )
        callback = api_callback(request, callback.pk)
        response = Response(
            CallbackSerializer(_callback_row(callback, shows_personal_data(request))).data
        )
        if replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class CallRecordListView(GenericAPIView):
    read_scope = "calls:read"
    serializer_class = CallRecordSerializer
    pagination_class = IdCursorPagination

    @extend_schema(
        summary="Call log / Журнал звонков",
        operation_id="calls_list",
        responses=CallRecordSerializer(many=True),
        parameters=[
            OpenApiParameter("missed", str, enum=["true", "false"]),
            OpenApiParameter("since", str, description="Rang at or after (ISO 8601)."),
        ],
        description="Calls the caller may see (scope calls:read): supervisors all; "
        "operators the calls they answered and those linked to tickets they may see. A "
        "token limited to queues sees only calls linked to tickets of those queues.",
    )
    def get(self, request):
        queryset = calls_for_staff(request.user).select_related("operator", "ticket")
        queue_ids = token_queue_ids(request)
        if queue_ids is not None:
            queryset = queryset.filter(ticket__queue_id__in=queue_ids)
        missed = request.query_params.get("missed")
        if missed in ("true", "false"):
            queryset = queryset.filter(missed=missed == "true")
        elif missed is not None:
            raise ValidationError({"missed": [_("true or false.")]})
        since = _since(request, "since")
        if since is not None:
            queryset = queryset.filter(ring_at__gte=since)
        full = shows_personal_data(request)
        page = self.paginate_queryset(queryset)
        rows = [
            {
                **{f: getattr(c, f) for f in CallRecordSerializer().fields if hasattr(c, f)},
                "from_number": _number(c.from_number, full),
                "to_number": _number(c.to_number, full),
                "operator": user_view(c.operator),
                "ticket": c.ticket.reference if c.ticket_id else None,
            }
            for c in page
        ]
        return self.get_paginated_response(CallRecordSerializer(rows, many=True).data)
