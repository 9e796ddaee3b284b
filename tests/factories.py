"""factory_boy factories shared by the whole suite."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from tickets.models import Contact, Message, Queue, Ticket
from tickets.numbering import ticket_number_next


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"operator{n}")
    first_name = "Анна"
    last_name = factory.Sequence(lambda n: f"Операторова{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@support.example")
    is_staff = True
    password = factory.django.Password("secret-pass-123")

    @factory.post_generation
    def permissions(self, create, extracted, **kwargs):
        """`UserFactory(permissions=CHAT_OPERATOR)`: "app_label.codename" strings."""
        if not create or not extracted:
            return
        for name in extracted:
            app_label, codename = name.split(".", 1)
            self.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


# Answers chats in the operator console (chat.access).
CHAT_OPERATOR = ("chat.operate_chat",)


class QueueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Queue
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Очередь {n}")
    slug = factory.Sequence(lambda n: f"queue-{n}")
    email_address = factory.LazyAttribute(lambda q: f"{q.slug}@support.example")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    full_name = factory.Sequence(lambda n: f"Иванов Иван {n}")
    email = factory.Sequence(lambda n: f"citizen{n}@example.com")
    phone = factory.Sequence(lambda n: f"+7900{n:07d}")


class TicketFactory(factory.django.DjangoModelFactory):
    """A ticket row without side effects; use `ticket_create` when the flow matters."""

    class Meta:
        model = Ticket

    number = factory.LazyFunction(ticket_number_next)
    queue = factory.SubFactory(QueueFactory)
    requester = factory.SubFactory(ContactFactory)
    channel = Ticket.Channel.WEB
    subject = factory.Sequence(lambda n: f"Не приходит СМС-код {n}")
    created_at = factory.LazyFunction(timezone.now)
    first_response_due = factory.LazyAttribute(
        lambda t: t.created_at + timezone.timedelta(hours=t.queue.sla_first_response_hours)
    )


class MessageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Message

    ticket = factory.SubFactory(TicketFactory)
    author_kind = Message.Author.REQUESTER
    channel = factory.LazyAttribute(lambda m: m.ticket.channel)
    text = "Здравствуйте! Не могу войти в личный кабинет."
