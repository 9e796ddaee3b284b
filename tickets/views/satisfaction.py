"""The "was your problem solved?" page linked from the resolution mail.

Mail scanners and link previewers follow every link in a mail, so a GET never records
anything: it shows the answer pre-filled from the link and asks for a confirming click.
Only the POST records, through `satisfaction_record`.
"""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tickets.form_errors import ErrorSummaryMixin
from tickets.selectors import access_ticket_for_requester
from tickets.services.satisfaction import (
    satisfaction_can_answer,
    satisfaction_open_response,
    satisfaction_record,
)
from tickets.views.public import _private, not_found


class FeedbackForm(ErrorSummaryMixin, forms.Form):
    solved = forms.TypedChoiceField(
        label=_("Was your problem solved?"),
        choices=[("yes", _("Yes, it was solved")), ("no", _("No, it was not solved"))],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
    )
    rating = forms.TypedChoiceField(
        label=_("Rate the answer from 1 (bad) to 5 (excellent)"),
        choices=[("", "—")] + [(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    t = forms.CharField(widget=forms.HiddenInput)


def _initial_from_link(request: HttpRequest, token: str) -> dict:
    initial = {"t": token}
    solved = request.GET.get("solved")
    if solved in ("yes", "no"):
        initial["solved"] = solved
    rating = request.GET.get("rating", "")
    if rating in {"1", "2", "3", "4", "5"}:
        initial["rating"] = rating
        initial.setdefault("solved", "yes")
    return initial


@never_cache
@require_http_methods(["GET", "POST"])
def feedback(request: HttpRequest, number: str) -> HttpResponse:
    token = request.POST.get("t") if request.method == "POST" else request.GET.get("t")
    ticket = access_ticket_for_requester(number, token)
    if ticket is None:
        return _private(not_found(request))
    context = {"ticket": ticket, "token": token}
    if not satisfaction_can_answer(ticket):
        return _private(render(request, "tickets/feedback/unavailable.html", context))
    existing = satisfaction_open_response(ticket)
    if existing is not None:
        context["response"] = existing
        return _private(render(request, "tickets/feedback/done.html", context))
    if request.method == "POST":
        form = FeedbackForm(request.POST)
        if form.is_valid():
            response, _created = satisfaction_record(
                ticket=ticket,
                solved=form.cleaned_data["solved"],
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
            context.update(response=response, just_recorded=True)
            return _private(render(request, "tickets/feedback/done.html", context))
    else:
        form = FeedbackForm(initial=_initial_from_link(request, token))
    context["form"] = form
    return _private(render(request, "tickets/feedback/form.html", context))
