"""Shared set-up for the operator workspace tests: roles and tickets through services."""

from django.contrib.auth.models import Group, Permission

from tests.factories import UserFactory
from tickets.services import contact_get_or_create, ticket_create

OPERATOR_PERMS = ("view_ticket", "change_ticket", "view_contact")


def make_operator(username: str, *, groups=(), extra_perms=()):
    user = UserFactory(username=username, is_staff=True)
    perms = Permission.objects.filter(
        content_type__app_label="tickets", codename__in=[*OPERATOR_PERMS, *extra_perms]
    )
    user.user_permissions.add(*perms)
    for group in groups:
        user.groups.add(group)
    return user


def make_group(name: str) -> Group:
    return Group.objects.get_or_create(name=name)[0]


def new_ticket(
    queue,
    *,
    name="Петрова Мария Ивановна",
    email="maria@example.com",
    phone="",
    subject="Не приходит СМС-код",
    text="Здравствуйте!",
    channel="web",
    **kwargs,
):
    requester = contact_get_or_create(full_name=name, email=email, phone=phone)
    return ticket_create(
        queue=queue,
        requester=requester,
        channel=channel,
        subject=subject,
        text=text,
        auto_reply=False,
        **kwargs,
    )
