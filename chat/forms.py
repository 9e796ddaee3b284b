"""The pre-chat form (also the "leave a message" form when nobody is online)."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from chat.services import RATING_COMMENT_MAX_CHARS
from tickets.forms import CallbackFieldsMixin
from tickets.numbering import parse_ticket_number
from tickets.selectors import queues_for_appeal
from tickets.validators import normalize_phone, validate_phone


class ChatStartForm(CallbackFieldsMixin, forms.Form):
    """Also «Перезвоните мне» (regulation 12): the same fields and checks as the appeal
    form's; the chat is then left as a message with a call-back entry."""

    full_name = forms.CharField(label=_("Full name"), max_length=255)
    email = forms.EmailField(label=_("E-mail"), required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=20, required=False, validators=[validate_phone]
    )
    queue = forms.ModelChoiceField(label=_("Service"), queryset=queues_for_appeal())
    number = forms.CharField(label=_("Number of an earlier appeal"), max_length=40, required=False)
    text = forms.CharField(label=_("Your question"))
    callback = forms.BooleanField(
        label=_("Call me back"),
        required=False,
        help_text=_("We call you back at the number above instead of you waiting on the line."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["queue"].queryset = queues_for_appeal()
        self.fields["text"].max_length = settings.CHAT_MESSAGE_MAX_CHARS
        self.fields["text"].validators.append(
            forms.CharField(max_length=settings.CHAT_MESSAGE_MAX_CHARS).validators[-1]
        )

    def clean_full_name(self) -> str:
        value = " ".join(self.cleaned_data["full_name"].split())
        if not value:
            raise ValidationError(_("Please enter your name."), code="required")
        return value

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])

    def clean_number(self) -> str:
        value = self.cleaned_data["number"].strip()
        if value and parse_ticket_number(value) is None:
            raise ValidationError(_("This does not look like an appeal number."), code="invalid")
        return value

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("email") and not data.get("phone") and not self.has_error("email"):
            self.add_error("email", _("Give an e-mail or a phone number so we can answer."))
        if data.get("callback"):
            if not data.get("phone") and not self.has_error("phone"):
                self.add_error("phone", _("Give the phone number to call you back at."))
            self._callback_check_window(data, queue=data.get("queue"))
        return data


class ChatRatingForm(forms.Form):
    """The rating asked for when a chat ends: 1-5 and an optional comment."""

    rating = forms.TypedChoiceField(
        label=_("Rating"), choices=[(n, str(n)) for n in range(1, 6)], coerce=int
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=RATING_COMMENT_MAX_CHARS
    )
