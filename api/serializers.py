"""Shapes of requests and responses. Output serializers only read attributes and the
presenters; input serializers only check types and sizes. The rules live in the
`tickets` services the views call."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api import presenters
from knowledge_base.models import Article, Category
from tickets.forms import TEXT_MAX_LENGTH
from tickets.models import (
    Attachment,
    CallbackRequest,
    CannedResponse,
    Contact,
    Message,
    Queue,
    Ticket,
    TicketLink,
)
from tickets.services.tickets import ESCALATION_CHECKLIST, ESCALATION_NOTE_REQUIRED


class QueueSerializer(serializers.ModelSerializer):
    # Declared: the model field's range differs between SQLite and PostgreSQL, and the
    # committed schema must be the same on both.
    sla_first_response_hours = serializers.IntegerField(read_only=True)

    class Meta:
        model = Queue
        fields = ["id", "slug", "name", "description", "sla_first_response_hours"]


class QueueBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Queue
        fields = ["id", "slug", "name"]


class UserBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class GroupBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RequesterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    email = serializers.CharField()
    phone = serializers.CharField()
    inn = serializers.CharField()
    organisation = serializers.CharField()
    masked = serializers.BooleanField(help_text="True: shown masked, as in the admin's lists.")


class SlaSerializer(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=["green", "amber", "red", "breached", "done", "done-late", "paused", "none"]
    )
    text = serializers.CharField()


class TicketSerializer(serializers.ModelSerializer):
    """A ticket in a list: the requester always masked (regulation 10)."""

    number = serializers.CharField(source="reference", help_text="SP-0042")
    queue = QueueBriefSerializer()
    assignee = serializers.SerializerMethodField()
    assigned_group = serializers.SerializerMethodField()
    requester = serializers.SerializerMethodField()
    sla = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "queue",
            "channel",
            "kind",
            "status",
            "priority",
            "line",
            "assignee",
            "assigned_group",
            "requester",
            "created_at",
            "updated_at",
            "last_activity_at",
            "first_response_due",
            "first_response_at",
            "resolution_due",
            "department_due",
            "resolved_at",
            "outcome",
            "closed_at",
            "sla",
        ]

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_assignee(self, ticket) -> dict | None:
        return presenters.user_view(ticket.assignee)

    @extend_schema_field(GroupBriefSerializer(allow_null=True))
    def get_assigned_group(self, ticket) -> dict | None:
        group = ticket.assigned_group
        return {"id": group.pk, "name": group.name} if group else None

    @extend_schema_field(RequesterSerializer)
    def get_requester(self, ticket) -> dict:
        return presenters.requester_view(ticket.requester, full=self._full_requester())

    def _full_requester(self) -> bool:
        return False

    @extend_schema_field(SlaSerializer)
    def get_sla(self, ticket) -> dict:
        return presenters.sla_view(ticket, self.context.get("now"))


class AttachmentSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "is_inline", "url"]

    def get_url(self, attachment) -> str:
        return reverse("api:ticket-attachment", args=[attachment.ticket_id, attachment.pk])


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "author_kind",
            "author",
            "is_internal",
            "channel",
            "text",
            "created_at",
            "attachments",
        ]

    @extend_schema_field(UserBriefSerializer(allow_null=True))
    def get_author(self, message) -> dict | None:
        return presenters.user_view(message.author)


class LinkSerializer(serializers.ModelSerializer):
    ticket_id = serializers.IntegerField(source="target_id")
    number = serializers.CharField(source="target.reference")

    class Meta:
        model = TicketLink
        fields = ["kind", "ticket_id", "number"]


class TicketDetailSerializer(TicketSerializer):
    """One ticket: the requester in full for staff allowed to see personal data, the
    conversation (internal notes only for callers allowed them), links."""

    messages = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [*TicketSerializer.Meta.fields, "first_contact_resolution", "messages", "links"]

    def _full_requester(self) -> bool:
        return bool(self.context.get("full_requester"))

    @extend_schema_field(MessageSerializer(many=True))
    def get_messages(self, ticket) -> list:
        return MessageSerializer(self.context["messages"], many=True).data

    @extend_schema_field(LinkSerializer(many=True))
    def get_links(self, ticket) -> list:
        return LinkSerializer(self.context["links"], many=True).data


class ContactSerializer(serializers.ModelSerializer):
    masked = serializers.BooleanField()

    class Meta:
        model = Contact
        fields = ["id", "full_name", "email", "phone", "inn", "organisation", "masked"]


class CannedResponseSerializer(serializers.ModelSerializer):
    class Meta:
        model = CannedResponse
        fields = ["id", "title", "body", "queue"]


class ErrorBodySerializer(serializers.Serializer):
    def get_fields(self):
        # Built here: a declared attribute named `fields` would shadow Serializer.fields.
        return {
            "code": serializers.CharField(help_text="Machine-readable: invalid, not_found, …"),
            "message": serializers.CharField(help_text="In the language of Accept-Language."),
            "fields": serializers.DictField(
                help_text="Field (or query parameter) → its messages; empty when not about a field."
            ),
        }


class ErrorSerializer(serializers.Serializer):
    """Every error answer (api.errors)."""

    error = ErrorBodySerializer()


# --- Input ---------------------------------------------------------------------------


class TicketFilterSerializer(serializers.Serializer):
    """Query parameters of the ticket list; several values of one filter: a,b."""

    queue = serializers.CharField(required=False, help_text="Queue ids or slugs, comma separated.")
    status = serializers.CharField(required=False, help_text="new, open, pending, resolved, closed")
    channel = serializers.CharField(required=False, help_text="web, email, phone, chat, api")
    kind = serializers.CharField(required=False, help_text="question, problem, complaint, …")
    line = serializers.CharField(required=False, help_text="first, second")
    assignee = serializers.CharField(
        required=False, help_text="A user id, `me`, or `none` (unassigned)."
    )
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)
    updated_after = serializers.DateTimeField(required=False)
    updated_before = serializers.DateTimeField(required=False)
    sla = serializers.ChoiceField(choices=["breached", "soon", "ontime"], required=False)
    q = serializers.CharField(
        required=False,
        max_length=200,
        help_text="The admin's search: a number (SP-0042, 42), e-mail, phone, INN, name or "
        "subject.",
    )

    CHOICES = {
        "status": Ticket.Status.values,
        "channel": Ticket.Channel.values,
        "kind": Ticket.Kind.values,
        "line": Ticket.Line.values,
    }

    def validate(self, attrs):
        for name, allowed in self.CHOICES.items():
            if name in attrs:
                values = [v.strip() for v in attrs[name].split(",") if v.strip()]
                bad = [v for v in values if v not in allowed]
                if bad or not values:
                    raise serializers.ValidationError(
                        {name: [f"{', '.join(bad) or '∅'} ∉ {{{', '.join(allowed)}}}"]}
                    )
                attrs[name] = values
        return attrs


# JSON bodies are typed: `"resolve": 0`, `"note": 5` or `"queue": "3"` are bad input (400),
# not quietly converted as DRF's fields (made for HTML forms too) would.


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField, StrictCharField):
    pass


class StrictBooleanField(serializers.BooleanField):
    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class CallbackWishSerializer(serializers.Serializer):
    """«Перезвонить с ответом»: the citizen is to be called back (the call-back list)."""

    phone = StrictCharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text="The number to call; empty: the appeal's `phone`.",
    )
    day = serializers.ChoiceField(
        choices=CallbackRequest.Day.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="With `window`: when the citizen wants the call (the queue's local time).",
    )
    window = serializers.ChoiceField(
        choices=CallbackRequest.Window.choices, required=False, allow_blank=True, default=""
    )
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, attrs):
        if bool(attrs["day"]) != bool(attrs["window"]):
            raise serializers.ValidationError(
                {"window": [_("Give both the day and the time window, or neither.")]}
            )
        return attrs


class TicketCreateSerializer(serializers.Serializer):
    """An appeal on behalf of a citizen, with the public form's rules (AppealForm)."""

    queue = StrictIntegerField()
    channel = serializers.ChoiceField(
        choices=Ticket.Channel.choices,
        default=Ticket.Channel.API,
        help_text="Where the citizen turned to; `api` (the default) for an integration's own "
        "channel (a portal, a mobile app).",
    )
    kind = serializers.ChoiceField(choices=Ticket.Kind.choices, default=Ticket.Kind.QUESTION)
    subject = StrictCharField(max_length=255)
    text = StrictCharField(max_length=TEXT_MAX_LENGTH)
    full_name = StrictCharField(max_length=255)
    email = StrictCharField(max_length=254, required=False, allow_blank=True, default="")
    phone = StrictCharField(max_length=20, required=False, allow_blank=True, default="")
    inn = StrictCharField(max_length=20, required=False, allow_blank=True, default="")
    consent = StrictBooleanField(
        help_text="The citizen agreed to the processing of their personal data (as on the "
        "public form)."
    )
    callback = CallbackWishSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="Put the appeal on the call-back list. A `phone` appeal is registered "
        "open, to be answered later, so it needs a channel back (seed 002 §1.12): an "
        "`email`, or this block; without either it is refused with 400 on `email` "
        "(code `invalid`), as on the admin's phone screen.",
    )


class ReplySerializer(serializers.Serializer):
    text = StrictCharField(max_length=TEXT_MAX_LENGTH)
    internal = StrictBooleanField(default=False, help_text="An internal note.")
    resolve = StrictBooleanField(
        default=False, help_text="Also mark the ticket resolved (public answers only)."
    )


class TransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Ticket.Status.choices)
    note = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")


class EscalateSerializer(serializers.Serializer):
    group = StrictIntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The department (a group id); null: the second line as a whole.",
    )
    requester_email = StrictEmailField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required for a phone appeal whose requester has no e-mail: the later "
        "answer is mailed (regulation 6).",
    )
    note = StrictCharField(
        max_length=TEXT_MAX_LENGTH,
        help_text="Required, not blank (seed 002 §3.7): what the citizen asks and what the "
        "first line has checked or done, so the department can act without asking again. "
        "Missing or blank: 400 on `note`.",
    )
    checklist = serializers.ListField(
        child=serializers.ChoiceField(choices=list(ESCALATION_CHECKLIST)),
        required=False,
        allow_null=True,
        default=None,
        max_length=len(ESCALATION_CHECKLIST),
        help_text="What was passed on (seed 002 §3.7): the note is saved with «Передано: …» "
        "and «Не передано: …» under it. Omitted: the note alone.",
    )

    def get_fields(self):
        fields = super().get_fields()
        # The service's own words, not DRF's «Обязательное поле.» (blank: spaces too).
        fields["note"].error_messages["required"] = ESCALATION_NOTE_REQUIRED
        fields["note"].error_messages["blank"] = ESCALATION_NOTE_REQUIRED
        return fields


class RedirectSerializer(serializers.Serializer):
    """Seed 002 §3.8: outside our competence — where to turn and what to do there."""

    where = StrictCharField(
        max_length=2000,
        help_text="Required: where the citizen should turn (the organisation, its address, "
        "phone or site).",
    )
    what = StrictCharField(max_length=2000, help_text="Required: what the citizen should do there.")


class LinkCreateSerializer(serializers.Serializer):
    number = StrictCharField(max_length=40, help_text="The other ticket: SP-0042, 42")
    kind = serializers.ChoiceField(
        choices=[
            (value, label)
            for value, label in TicketLink.Kind.choices
            if value not in (TicketLink.Kind.MERGED_INTO, TicketLink.Kind.MERGED_FROM)
        ]
    )


class AssignSerializer(serializers.Serializer):
    assignee = StrictIntegerField(allow_null=True, help_text="A user id; null unassigns.")


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "slug", "name", "description"]


class ArticleSerializer(serializers.ModelSerializer):
    category = CategorySerializer()

    class Meta:
        model = Article
        fields = [
            "id",
            "slug",
            "title",
            "summary",
            "category",
            "language",
            "published_at",
            "updated_at",
        ]


class ArticleDetailSerializer(ArticleSerializer):
    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body", "body_html"]


class SearchHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField()
    snippet = serializers.CharField(help_text="HTML: escaped text with <mark> around matches.")
    category_slug = serializers.CharField()
    category_name = serializers.CharField()
