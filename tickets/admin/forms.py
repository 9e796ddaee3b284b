"""Forms of the operator workspace: they parse input; the services decide."""

from django import forms
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from tickets.models import CallbackRequest, Queue, Ticket, TicketLink
from tickets.numbering import parse_ticket_number
from tickets.selectors import staff_users
from tickets.services.tickets import ESCALATION_CHECKLIST
from tickets.workflow import TRANSITIONS


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        single = super().clean
        items = data if isinstance(data, list | tuple) else [data]
        return [single(item, initial) for item in items]


class OperatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        # People by name, as everywhere operators read them; the login only without one.
        return obj.get_full_name() or obj.get_username()


class TicketNumberField(forms.CharField):
    """A ticket number as people type it (SP-0042, sp42, 42) → the number."""

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        number = parse_ticket_number(value)
        if number is None:
            raise forms.ValidationError(
                _("Not a ticket number: %(value)s"), params={"value": value}
            )
        return number


class ReplyForm(forms.Form):
    MODE_PUBLIC = "public"
    MODE_INTERNAL = "internal"

    mode = forms.ChoiceField(
        label=_("Kind"),
        choices=[(MODE_PUBLIC, _("Public reply")), (MODE_INTERNAL, _("Internal note"))],
        initial=MODE_PUBLIC,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Text"), widget=forms.Textarea(attrs={"rows": 6, "id": "reply-text"})
    )
    files = MultipleFileField(label=_("Attach files"))
    last_message_id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    force = forms.BooleanField(widget=forms.HiddenInput, required=False)


class TicketPropertiesForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"))
    assignee = OperatorChoiceField(label=_("Assignee"), queryset=staff_users(), required=False)
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.all())
    priority = forms.ChoiceField(label=_("Priority"), choices=Ticket.Priority.choices)
    kind = forms.ChoiceField(label=_("Type"), choices=Ticket.Kind.choices)
    # When the page was loaded (ticket.updated_at): a later change by someone else is shown
    # before it is overwritten.
    loaded_at = forms.CharField(widget=forms.HiddenInput, required=False)
    force = forms.BooleanField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, ticket: Ticket, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "loaded_at": ticket.updated_at.isoformat() if ticket.updated_at else "",
                "status": ticket.status,
                "assignee": ticket.assignee_id,
                "queue": ticket.queue_id,
                "priority": ticket.priority,
                "kind": ticket.kind,
            },
        )
        super().__init__(*args, **kwargs)
        allowed = {ticket.status, *TRANSITIONS[ticket.status]}
        self.fields["status"].choices = [
            (value, label) for value, label in Ticket.Status.choices if value in allowed
        ]
        self.fields["assignee"].queryset = staff_users()


class EscalateForm(forms.Form):
    group = forms.ModelChoiceField(
        label=_("Department / group"),
        queryset=Group.objects.order_by("name"),
        required=False,
        empty_label=_("second line (any)"),
    )
    requester_email = forms.EmailField(label=_("Requester's e-mail for the answer"), required=False)
    # Seed 002 §3.7: what must be passed on; the service records what was not.
    checklist = forms.MultipleChoiceField(
        label=_("Passed on to the second line"),
        choices=list(ESCALATION_CHECKLIST.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # Required, by the service (one rule for the admin, the API and the phone screen).
    note = forms.CharField(
        label=_("Note for the second line"),
        required=False,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("what the citizen asks, what has been done")}
        ),
    )


class EscalateActionForm(EscalateForm):
    """The bulk action: the same note and checklist for every selected ticket."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["requester_email"]


class RedirectForm(forms.Form):
    """Seed 002 §3.8: outside our competence — where to turn and what to do there."""

    where = forms.CharField(
        label=_("Where to turn"),
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("organisation, address, phone or site")}
        ),
        max_length=2000,
    )
    what = forms.CharField(
        label=_("What to do there"),
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": _("which application, which documents to bring")}
        ),
        max_length=2000,
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "redirect_%s")
        super().__init__(*args, **kwargs)


LINK_KINDS = [
    (TicketLink.Kind.RELATED.value, TicketLink.Kind.RELATED.label),
    (TicketLink.Kind.PARENT_OF.value, TicketLink.Kind.PARENT_OF.label),
    (TicketLink.Kind.CHILD_OF.value, TicketLink.Kind.CHILD_OF.label),
    (TicketLink.Kind.DUPLICATE_OF.value, TicketLink.Kind.DUPLICATE_OF.label),
]


class OwnIdsForm(forms.Form):
    """One of several forms on the ticket page: its field ids carry its own prefix, so
    no two fields share an id and each label names its own field."""

    id_prefix = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class LinkForm(OwnIdsForm):
    id_prefix = "link"
    kind = forms.ChoiceField(label=_("Link"), choices=LINK_KINDS)
    number = TicketNumberField(label=_("Ticket number"), max_length=30)


class UnlinkForm(forms.Form):
    kind = forms.ChoiceField(choices=TicketLink.Kind.choices)
    target = forms.IntegerField()


class ContinueForm(OwnIdsForm):
    id_prefix = "continue"
    subject = forms.CharField(label=_("Subject of the new ticket"), max_length=255, required=False)
    text = forms.CharField(label=_("Text"), widget=forms.Textarea(attrs={"rows": 3}))


MERGE_HELP = _(
    "Only tickets of the same requester can be merged: the requester sees the merged "
    "conversation on their status page."
)


class MergeForm(OwnIdsForm):
    id_prefix = "merge"
    number = TicketNumberField(label=_("Merge into ticket"), max_length=30, help_text=MERGE_HELP)


# --- Bulk actions --------------------------------------------------------------------


class AssignActionForm(forms.Form):
    assignee = OperatorChoiceField(label=_("Assign to"), queryset=staff_users())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = staff_users()


class StatusActionForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"))

    def __init__(self, *args, statuses: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (value, label) for value, label in Ticket.Status.choices if value in statuses
        ]


class MergeActionForm(forms.Form):
    target = forms.ChoiceField(label=_("Merge into"), required=False)
    number = TicketNumberField(
        label=_("…or a ticket by number"), max_length=30, required=False, help_text=MERGE_HELP
    )

    def __init__(self, *args, tickets: list[Ticket], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "—")] + [
            (str(t.pk), f"{t.reference}: {t.subject}") for t in tickets
        ]

    def clean(self):
        data = super().clean()
        if not data.get("target") and not data.get("number"):
            raise forms.ValidationError(_("Choose the ticket to merge into."))
        return data


# --- Register call -------------------------------------------------------------------


class CallSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Number, phone, e-mail or name"),
        required=False,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "tabindex": 1, "id": "call-q"}
        ),
    )
    on_date = forms.DateField(
        label=_("Date of the appeal"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "tabindex": 2}),
    )


class CallForm(forms.Form):
    ticket = forms.IntegerField(required=False, widget=forms.HiddenInput)
    full_name = forms.CharField(label=_("Full name"), max_length=255, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    inn = forms.CharField(label=_("INN"), max_length=12, required=False)
    queue = forms.ModelChoiceField(
        label=_("Service"), queryset=Queue.objects.filter(is_active=True), required=False
    )
    kind = forms.ChoiceField(label=_("Type"), choices=Ticket.Kind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=255, required=False)
    text = forms.CharField(
        label=_("What the caller said"), widget=forms.Textarea(attrs={"rows": 5})
    )
    solved = forms.BooleanField(label=_("Solved during the call"), required=False)
    callback = forms.BooleanField(label=_("Call back with the answer"), required=False)
    escalate = forms.BooleanField(label=_("Hand to line 2"), required=False)
    group = forms.ModelChoiceField(
        label=_("Department / group"),
        queryset=Group.objects.order_by("name"),
        required=False,
        empty_label=_("second line (any)"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for index, name in enumerate(
            [
                "full_name",
                "phone",
                "email",
                "inn",
                "queue",
                "kind",
                "subject",
                "text",
                "solved",
                "callback",
                "escalate",
                "group",
            ],
            start=10,
        ):
            self.fields[name].widget.attrs["tabindex"] = index

    def focus_first_error(self, search_form: forms.Form) -> None:
        """After a failed submit the operator goes on at the field that needs fixing,
        not at the search box (which otherwise has autofocus)."""
        wrong = [name for name in self.fields if name in self.errors]
        if not wrong:
            return
        search_form.fields["q"].widget.attrs.pop("autofocus", None)
        self.fields[wrong[0]].widget.attrs["autofocus"] = True
        for name in wrong:
            self.fields[name].widget.attrs["aria-invalid"] = "true"

    def clean_inn(self):
        from tickets.validators import validate_inn

        value = self.cleaned_data["inn"].strip()
        validate_inn(value)
        return value

    def clean_phone(self):
        from tickets.validators import validate_phone

        value = self.cleaned_data["phone"].strip()
        validate_phone(value)
        return value


class CallbackOutcomeForm(forms.Form):
    """What came of one call-back attempt."""

    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[("", "—"), *CallbackRequest.Outcome.choices]
    )
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": _("what was said (optional)")}),
    )
