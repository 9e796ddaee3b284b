"""Forms of the public pages: the appeal, the status look-up, the reply box."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from tickets.citizen_time import queue_time_zone
from tickets.form_errors import ErrorSummaryMixin
from tickets.models import CallbackRequest, Ticket
from tickets.numbering import format_ticket_number, parse_ticket_number
from tickets.selectors import queues_for_appeal
from tickets.services import CallbackWish, attachments_validate
from tickets.services.callbacks import callback_window_passed
from tickets.validators import normalize_phone, validate_inn, validate_phone

TEXT_MAX_LENGTH = 20_000


def _example_number_now() -> str:
    return format_ticket_number(42)


# An example number in the configured prefix, read when shown (not at import).
_example_number = lazy(_example_number_now, str)


def _with_example(message: str):
    """A translated text naming an example number: `%(example)s` → SP-0042."""
    return lazy(lambda: gettext(message) % {"example": _example_number_now()}, str)()


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; limits from settings via `attachments_validate`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        files = [super(MultipleFileField, self).clean(f, initial) for f in files]
        attachments_validate(files)
        return files


class AttachmentsMixin(forms.Form):
    attachments = MultipleFileField(label=_("Attachments"))


class CallbackFieldsMixin(forms.Form):
    """«Перезвоните мне»: a day, a time and a reason (regulation 12)."""

    callback_day = forms.ChoiceField(
        label=_("Day"),
        choices=CallbackRequest.Day.choices,
        initial=CallbackRequest.Day.TODAY,
        required=False,
    )
    callback_window = forms.ChoiceField(
        label=_("Time"),
        choices=[("", _("any time"))] + list(CallbackRequest.Window.choices),
        required=False,
    )
    callback_reason = forms.CharField(
        label=_("What to talk about"),
        max_length=500,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def _callback_check_window(self, cleaned, queue=None) -> None:
        day, window = cleaned.get("callback_day") or "", cleaned.get("callback_window") or ""
        tz = queue_time_zone(queue) if queue is not None else None
        if window and callback_window_passed(day=day or "today", window=window, tz=tz):
            self.add_error(
                "callback_window", _("This time has already passed today: choose another.")
            )

    def callback_wish(self, phone: str) -> CallbackWish:
        data = self.cleaned_data
        window = data.get("callback_window") or ""
        return CallbackWish(
            phone=phone,
            day=(data.get("callback_day") or CallbackRequest.Day.TODAY) if window else "",
            window=window,
            reason=data.get("callback_reason") or "",
        )


class AppealForm(ErrorSummaryMixin, CallbackFieldsMixin, AttachmentsMixin, forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        required=False,
        validators=[validate_phone],
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "placeholder": "+7 900 123-45-67"}
        ),
    )
    queue = forms.ModelChoiceField(
        label=_("Service"),
        queryset=queues_for_appeal(),
        empty_label=_("— choose the service —"),
    )
    kind = forms.ChoiceField(
        label=_("Type of appeal"),
        choices=[(value, capfirst(label)) for value, label in Ticket.Kind.choices],
        initial=Ticket.Kind.QUESTION,
    )
    subject = forms.CharField(
        label=_("Subject"),
        max_length=255,
        widget=forms.TextInput(attrs={"data-kb-suggest": "/kb/suggest/", "autocomplete": "off"}),
    )
    text = forms.CharField(
        label=_("Describe your question or problem"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    number = forms.CharField(
        label=_("Number of an earlier appeal"),
        max_length=40,
        required=False,
        help_text=_with_example(
            gettext_noop("If this continues an appeal you already filed, e.g. %(example)s.")
        ),
    )
    inn = forms.CharField(
        label=_("INN"),
        max_length=20,
        required=False,
        help_text=_("Optional: 10 digits for an organisation, 12 for a person."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    callback = forms.BooleanField(
        label=_("Call me back"),
        required=False,
        help_text=_("We call you back at the number above instead of you waiting on the line."),
    )
    consent = forms.BooleanField(
        label=_("I agree to the processing of my personal data to handle this appeal."),
        error_messages={"required": _("Your consent is needed to handle the appeal.")},
    )

    field_order = [
        "full_name",
        "email",
        "phone",
        "queue",
        "kind",
        "subject",
        "text",
        "number",
        "inn",
        "attachments",
        "callback",
        "callback_day",
        "callback_window",
        "callback_reason",
        "consent",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Re-evaluated per form: queues switched on or off take effect at once.
        self.fields["queue"].queryset = queues_for_appeal()

    def clean_full_name(self) -> str:
        value = " ".join(self.cleaned_data["full_name"].split())
        if not value:
            raise ValidationError(_("Please enter your name."), code="required")
        return value

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])

    def clean_subject(self) -> str:
        value = " ".join(self.cleaned_data["subject"].split())
        if not value:
            raise ValidationError(_("Please enter a subject."), code="required")
        return value

    def clean_text(self) -> str:
        value = self.cleaned_data["text"].strip()
        if not value:
            raise ValidationError(_("Please describe your question."), code="required")
        return value

    def clean_number(self) -> int | None:
        value = self.cleaned_data["number"].strip()
        if not value:
            return None
        number = parse_ticket_number(value)
        if number is None:
            raise ValidationError(
                _with_example(
                    gettext_noop(
                        "Enter the number as it was given to you, for example %(example)s."
                    )
                ),
                code="invalid_number",
            )
        return number

    def clean_inn(self) -> str:
        value = "".join(self.cleaned_data["inn"].split())
        validate_inn(value)
        return value

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("email")
            and not cleaned.get("phone")
            and not (self.has_error("email") or self.has_error("phone"))
        ):
            # Either field fixes it: both are marked, the summary says it once.
            self.add_error_to_fields(
                ("email", "phone"),
                ValidationError(
                    _("Give an e-mail or a phone number so that we can answer you."),
                    code="contact_required",
                ),
            )
        if cleaned.get("callback"):
            if not cleaned.get("phone") and not self.has_error("phone"):
                self.add_error("phone", _("Give the phone number to call you back at."))
            self._callback_check_window(cleaned)
        return cleaned


class StatusLookupForm(ErrorSummaryMixin, forms.Form):
    number = forms.CharField(
        label=_("Appeal number"),
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": _example_number(), "autocomplete": "off"}),
    )
    contact = forms.CharField(
        label=_("E-mail or phone given in the appeal"),
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "email"}),
    )


class ReplyForm(ErrorSummaryMixin, AttachmentsMixin, forms.Form):
    text = forms.CharField(
        label=_("Your message"),
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    field_order = ["text", "attachments"]

    def clean_text(self) -> str:
        value = self.cleaned_data["text"].strip()
        if not value:
            raise ValidationError(_("Please write a message."), code="required")
        return value


class CallbackForm(ErrorSummaryMixin, CallbackFieldsMixin, forms.Form):
    """«Перезвоните мне» from the status page."""

    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        validators=[validate_phone],
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "placeholder": "+7 900 123-45-67"}
        ),
    )

    field_order = ["phone", "callback_day", "callback_window", "callback_reason"]

    def __init__(self, *args, queue=None, **kwargs):
        """`queue`: the window is checked in its time zone (the chat's form passes it)."""
        super().__init__(*args, **kwargs)
        self.queue = queue

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])

    def clean(self):
        cleaned = super().clean()
        self._callback_check_window(cleaned, queue=self.queue)
        return cleaned
