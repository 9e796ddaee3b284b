"""A queue's own mail templates (regulation 8): auto-reply, answer and «solved?» mails and
a signature, falling back to the global ones, rendered in a sandbox."""

import pytest
from django.template import TemplateSyntaxError
from django.urls import reverse

from notifications.delivery import notification_build_email
from notifications.models import Notification
from tests.factories import UserFactory
from tickets.mail_templates import mail_template_check, mail_template_render
from tickets.services import contact_get_or_create, message_add_reply, ticket_create

pytestmark = pytest.mark.django_db


def appeal(queue):
    requester = contact_get_or_create(
        full_name="Петрова Мария Ивановна", email="maria@example.com", phone=""
    )
    return ticket_create(
        queue=queue, requester=requester, channel="web", subject="Код", text="Не приходит код"
    )


def mail(template: str):
    return notification_build_email(Notification.objects.get(template=template))


def test_queue_auto_reply_replaces_the_global_one(queue):
    queue.auto_reply_subject = "Навигатор: обращение {{ number }} принято"
    queue.auto_reply_text = "{{ name }}, ваше обращение {{ number }} в очереди «{{ queue }}»."
    queue.save()

    ticket = appeal(queue)

    email = mail("auto_reply")
    assert email.subject == f"[{ticket.reference}] Навигатор: обращение {ticket.reference} принято"
    assert email.body == (
        f"Мария Ивановна, ваше обращение {ticket.reference} в очереди «Сайт Навигатора»."
    )
    assert email.alternatives == []


def test_queue_without_templates_sends_the_global_mails(queue):
    ticket = appeal(queue)

    email = mail("auto_reply")
    assert "Ваше обращение принято и зарегистрировано" in email.body
    assert ticket.reference in email.body


def test_queue_answer_and_solved_mails_carry_the_operator_text(queue, operator):
    queue.answer_text = "Ответ по {{ number }}:\n{{ text }}\n— {{ operator }}"
    queue.resolved_text = "Решено? Да: {{ feedback_yes_url }}"
    queue.save()
    ticket = appeal(queue)

    message_add_reply(ticket=ticket, author=operator, text="Проверьте номер телефона.")
    message_add_reply(ticket=ticket, author=operator, text="Готово.", resolve=True)

    assert mail("answer").body.startswith(f"Ответ по {ticket.reference}:\nПроверьте номер")
    assert "solved=yes" in mail("resolved").body


def test_queue_signature_closes_its_global_mails_in_text_and_html(queue):
    queue.signature = "Служба поддержки Навигатора\n8-800-000-00-00"
    queue.save()

    appeal(queue)

    email = mail("auto_reply")
    assert email.body.endswith("-- \nСлужба поддержки Навигатора\n8-800-000-00-00\n")
    html = email.alternatives[0][0]
    assert "Служба поддержки Навигатора<br>8-800-000-00-00" in html


@pytest.mark.parametrize(
    "source",
    [
        "{% debug %}",
        "{% load static %}{% static 'x' %}",
        '{% include "notifications/email/ru/answer.txt" %}',
        "{% url 'admin:index' %}",
        "{{ number|safe }}",
    ],
)
def test_queue_template_cannot_use_tags_that_reach_beyond_its_placeholders(source):
    with pytest.raises(TemplateSyntaxError):
        mail_template_check(source)


def test_queue_template_sees_only_its_placeholders_as_plain_text():
    context = {
        "number": "SP-0042",
        "requester": {"email": "other@example.com"},
        "settings": {"SECRET_KEY": "x"},
        "text": "answer text",  # not a placeholder of the auto-reply
    }

    out = mail_template_render(
        "[{{ number }}][{{ requester.email }}][{{ settings.SECRET_KEY }}][{{ text }}]",
        template="auto_reply",
        context=context,
    )

    assert out == "[SP-0042][][][]"


def test_admin_preview_fills_the_template_with_sample_values(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:tickets_queue_template_preview"),
        {"template": "auto_reply", "subject": "№ {{ number }}", "text": "До {{ due }}"},
    )

    assert response.json() == {
        "subject": "№ SP-0042",
        "text": "До до 18:00 пятницы, 5 декабря (МСК)",
    }


def test_admin_refuses_to_save_a_template_with_a_forbidden_tag(client, queue):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:tickets_queue_change", args=[queue.pk])
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(operators_group="", auto_reply_text="{% debug %}", sla_resolution_hours="")

    response = client.post(url, data)

    assert response.status_code == 200
    assert "auto_reply_text" in response.context["adminform"].form.errors
