"""Form errors a citizen can find, with or without a screen (issue 20, item 3; GOV.UK's
error summary pattern, WCAG 2.1 3.3.1 and 3.3.3).

A citizen form lists every error once at the top (`_error_summary.html`), each linking to
its control; `static/js/error-summary.js` moves the focus there. Django (5.2) already
sets `aria-invalid` and `aria-describedby="<id>_error"` on a control with an error; the
templates give the error list and the help text those ids.
"""

from dataclasses import dataclass

from django import forms
from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class SummaryItem:
    message: str
    label: str = ""
    # The id of the control the link moves the focus to; "" for a form-wide error.
    target: str = ""


def _control_id(bound: forms.BoundField) -> str:
    if bound.is_hidden:
        return ""
    if bound.field.widget.use_fieldset:
        # A group of radios or checkboxes: the first of them.
        return f"{bound.auto_id}_0" if bound.auto_id else ""
    return bound.id_for_label or ""


class ErrorSummaryMixin:
    """For the citizens' forms: `error_summary` and `add_error_to_fields`."""

    def add_error_to_fields(self, fields: tuple[str, ...], error: ValidationError) -> None:
        """One error that belongs to several fields (give an e-mail *or* a phone): each
        field shows it and is marked invalid; the summary lists it once."""
        self._shared_errors = {*getattr(self, "_shared_errors", ()), str(error.message)}
        for name in fields:
            self.add_error(name, ValidationError(error.message, code=error.code))

    @property
    def error_summary(self) -> list[SummaryItem]:
        """Every error, form-wide ones first, then in the order of the fields; an error
        shared by several fields once, without a field name, linking to the first."""
        items: list[SummaryItem] = []
        shared = getattr(self, "_shared_errors", set())
        listed: set[str] = set()
        for message in self.non_field_errors():
            items.append(SummaryItem(message=str(message)))
        for bound in self:
            for message in map(str, bound.errors):
                if message in shared:
                    if message not in listed:
                        listed.add(message)
                        items.append(SummaryItem(message=message, target=_control_id(bound)))
                    continue
                label = str(bound.label or "")
                items.append(SummaryItem(message=message, label=label, target=_control_id(bound)))
        return items
