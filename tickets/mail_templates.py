"""A queue's own mail templates (regulation 8): the auto-reply, the answer, the
«solved?» mail and the «redirected» mail (seed 002 §3.8), each falling back to the
global template when the queue leaves it empty.

Whoever edits a queue writes these templates, so they are rendered in a sandbox: a
template engine without loaders and without `{% load %}`, offering only a few harmless
tags and filters (no `{% include %}` of other files, no `{% debug %}` dump of the
context), over a context of plain strings — the placeholders listed below and nothing
else. A template cannot reach the ticket, the requester's other data or the settings.
"""

from __future__ import annotations

from django.template import (
    Context,
    Engine,
    Library,
    TemplateSyntaxError,
    defaultfilters,
    defaulttags,
)
from django.utils.translation import gettext_lazy as _

# The mails a queue may word itself: notification template name → Queue field prefix.
OVERRIDABLE = ("auto_reply", "answer", "resolved", "redirected")

SAFE_TAGS = ("if", "for", "firstof", "with", "comment", "spaceless", "autoescape")
SAFE_FILTERS = (
    "default",
    "default_if_none",
    "upper",
    "lower",
    "capfirst",
    "title",
    "length",
    "join",
    "first",
    "last",
    "truncatewords",
    "truncatechars",
    "wordwrap",
    "linebreaksbr",
    "yesno",
    "pluralize",
)

# Placeholders per mail: the keys of the context tickets/notify.py builds for it.
COMMON = {
    "number": _("appeal number, e.g. SP-0042"),
    "name": _("citizen's name (empty if it does not look like one)"),
    "queue": _("queue name"),
    "subject": _("subject (e-mail appeals only)"),
    "status_label": _("status"),
    "due": _("first answer due, in the citizen's time zone"),
    "sla_hours": _("hours for the first answer"),
    "status_url": _("private link to the appeal's status page"),
}
ANSWER = {
    "text": _("the operator's answer"),
    "operator": _("the operator's name"),
}
RESOLVED = {
    **ANSWER,
    "feedback_yes_url": _("link: «yes, solved»"),
    "feedback_no_url": _("link: «no, not solved» (reopens)"),
    "feedback_url": _("link to the rating page"),
}
REDIRECTED = {
    "where": _("where to turn (the operator's words)"),
    "what": _("what to do there (the operator's words)"),
    "operator": _("the operator's name"),
}
PLACEHOLDERS = {
    "auto_reply": COMMON,
    "answer": {**COMMON, **ANSWER},
    "resolved": {**COMMON, **RESOLVED},
    "redirected": {**COMMON, **REDIRECTED},
}


def _sandbox() -> Engine:
    library = Library()
    for name in SAFE_TAGS:
        library.tag(name, defaulttags.register.tags[name])
    for name in SAFE_FILTERS:
        library.filter(name, defaultfilters.register.filters[name])
    engine = Engine(loaders=[], libraries={}, builtins=[], autoescape=False)
    # Engine() always adds Django's default tag libraries; only ours may remain.
    engine.template_builtins = [library]
    return engine


SANDBOX = _sandbox()


def mail_template_check(source: str) -> None:
    """Raise TemplateSyntaxError when `source` uses a tag or filter the sandbox lacks."""
    SANDBOX.from_string(source)


def mail_template_render(source: str, *, template: str, context: dict) -> str:
    """`source` rendered with the placeholders of `template` (strings only) from `context`."""
    allowed = {name: _plain(context.get(name, "")) for name in PLACEHOLDERS[template]}
    return SANDBOX.from_string(source).render(Context(allowed, autoescape=False))


def _plain(value) -> str:
    return "" if value is None else str(value)


def queue_mail_override(queue, *, template: str, context: dict) -> dict[str, str]:
    """The rendered subject/text a queue puts in place of the global mail, and its
    signature: extra context for the outbox row (empty when the queue has none)."""
    extra = {"signature": queue.signature} if queue.signature.strip() else {}
    if template not in OVERRIDABLE:
        return extra
    text = getattr(queue, f"{template}_text")
    subject = getattr(queue, f"{template}_subject")
    try:
        if text.strip():
            extra["custom_text"] = mail_template_render(text, template=template, context=context)
        if subject.strip():
            rendered = mail_template_render(subject, template=template, context=context)
            extra["custom_subject"] = " ".join(rendered.split())
    except TemplateSyntaxError:
        # Saved before a check existed, or edited outside the admin: the global mail
        # goes out rather than none.
        extra.pop("custom_text", None)
        extra.pop("custom_subject", None)
    return extra
