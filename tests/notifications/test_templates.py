"""Every e-mail template renders in Russian and English, text and HTML."""

import pytest

from notifications.delivery import notification_build_email
from notifications.models import Notification
from notifications.services import notification_enqueue

pytestmark = pytest.mark.django_db

CONTEXT = {
    "number": "SP-0042",
    "subject": "Не приходит СМС & код",
    "name": "Мария",
    "queue": "Сайт Навигатора",
    "due": "23 ноября 2026 г. 12:00",
    "created": "22 ноября 2026 г. 12:00",
    "sla_hours": 24,
    "status_url": "http://localhost:8000/appeal/SP-0042/?t=tok",
    "admin_url": "http://localhost:8000/admin/tickets/ticket/1/change/",
    "text": "Код отправлен повторно.",
    "operator": "Анна",
    "assignee": "Анна",
    "rating": 2,
    "comment": "Код так и не пришёл",
    "department": "Отдел расчётов",
    "where": "МФЦ, ул. Ленина, 1",
    "what": "Подайте заявление лично.",
    "feedback_url": "http://localhost:8000/appeal/SP-0042/feedback/?t=tok",
    "feedback_yes_url": "http://localhost:8000/appeal/SP-0042/feedback/?t=tok&solved=yes",
    "feedback_no_url": "http://localhost:8000/appeal/SP-0042/feedback/?t=tok&solved=no",
    "rating_urls": [
        (n, f"http://localhost:8000/appeal/SP-0042/feedback/?t=tok&solved=yes&rating={n}")
        for n in range(1, 6)
    ],
}

# template: words that must be in the Russian and in the English text
EXPECTED = {
    "auto_reply": (
        ["принято", "ответьте на это письмо", CONTEXT["status_url"]],
        ["received", "reply to this mail", CONTEXT["status_url"]],
    ),
    "answer": (["Код отправлен повторно."], ["Код отправлен повторно."]),
    "resolved": (
        ["решена?", CONTEXT["feedback_no_url"], "rating=5"],
        ["Was your problem solved?", CONTEXT["feedback_yes_url"], "rating=1"],
    ),
    "reopened": (["открыто снова"], ["reopened"]),
    "redirected": (
        ["Куда обратиться", "МФЦ, ул. Ленина, 1", "Подайте заявление лично."],
        ["Where to turn", "МФЦ, ул. Ленина, 1", "Подайте заявление лично."],
    ),
    "sla_reminder": (["до 23 ноября", CONTEXT["admin_url"]], ["due by", CONTEXT["admin_url"]]),
    "sla_breach": (["истёк", "Анна"], ["was due", "Анна"]),
    "resolution_reminder": (
        ["Решить его нужно до 23 ноября", CONTEXT["admin_url"]],
        ["resolved by", CONTEXT["admin_url"]],
    ),
    "department_reminder": (
        ["Обязательный срок исполнения: до 23 ноября", "Отдел расчётов"],
        ["Mandatory deadline", "Отдел расчётов"],
    ),
    "department_breach": (["отделом «Отдел расчётов» истёк"], ["still open", "Отдел расчётов"]),
    "resolution_breach": (["Срок решения", "Анна"], ["still open", "Анна"]),
    "csat_no_alert": (["НЕ решена", "Код так и не пришёл"], ["NOT solved", "Код так и не пришёл"]),
}


def _build(template: str, language: str):
    row = notification_enqueue(
        recipient="maria@example.com",
        template=template,
        kind=Notification.Kind.NOTICE,
        idempotency_key=f"{template}:{language}",
        context=CONTEXT,
        language=language,
        reference="SP-0042",
    )
    return notification_build_email(row)


@pytest.mark.parametrize("template", sorted(EXPECTED))
@pytest.mark.parametrize("language", ["ru", "en"])
def test_template_renders_subject_text_and_html(template, language):
    email = _build(template, language)
    words = EXPECTED[template][0 if language == "ru" else 1]
    assert email.subject.startswith("[SP-0042] ")
    assert email.subject.count("SP-0042") == 1  # the tag, not the number said twice
    assert "\n" not in email.subject
    for word in words:
        assert word in email.body
    html = email.alternatives[0].content
    assert f'lang="{language}"' in html
    assert "SP-0042" in html
    assert "{{" not in email.body + html and "{%" not in email.body + html


@pytest.mark.parametrize("language", ["ru", "en"])
def test_plain_text_is_not_html_escaped(language):
    email = _build("auto_reply", language)
    assert "СМС & код" in email.body
    assert "&amp;" not in email.body


def test_html_escapes_what_the_citizen_wrote():
    row = notification_enqueue(
        recipient="maria@example.com",
        template="answer",
        kind=Notification.Kind.PERSONAL,
        idempotency_key="xss",
        context={**CONTEXT, "text": "<script>alert(1)</script>"},
        reference="SP-0042",
    )
    html = notification_build_email(row).alternatives[0].content
    assert "<script>" not in html


def test_resolved_mail_links_every_rating_in_both_parts():
    email = _build("resolved", "ru")
    html = email.alternatives[0].content
    for n in range(1, 6):
        assert f"rating={n}" in email.body
        assert f"rating={n}" in html


def test_unknown_language_falls_back_to_russian():
    email = _build("auto_reply", "de")
    assert "принято" in email.body
