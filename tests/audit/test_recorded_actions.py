"""Each security-relevant action leaves its audit row: who, from where, on what."""

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.urls import reverse

from audit import receivers
from audit.chain import audit_chain_verify
from audit.models import AuditEvent
from tests.factories import UserFactory
from tests.tickets.admin_helpers import make_operator, new_ticket
from tickets.services import contact_anonymise, ticket_merge

pytestmark = pytest.mark.django_db


def _rows(action: str):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def _last(action: str) -> AuditEvent:
    rows = _rows(action)
    assert rows, f"no {action} row"
    return rows[-1]


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


# --- Sign-in ------------------------------------------------------------------------


def test_sign_in_is_recorded_with_the_user_and_the_address(client, admin_user):
    response = client.post(
        reverse("admin:login"),
        {"username": "root", "password": "secret-pass-123"},
        REMOTE_ADDR="203.0.113.7",
    )
    assert response.status_code == 302
    event = _last("auth.login")
    assert event.actor_id == admin_user.pk and event.actor_label == "root"
    assert event.address == "203.0.113.7"
    assert event.object_ref == f"auth.user:{admin_user.pk}"


def test_failed_sign_in_is_recorded_with_the_name_tried_and_no_password(client, admin_user):
    client.post(
        reverse("admin:login"),
        {"username": "root", "password": "wrong-password"},
        REMOTE_ADDR="203.0.113.8",
    )
    event = _last("auth.login_failed")
    assert event.actor_id is None
    assert event.address == "203.0.113.8"
    assert event.details == {"username": "root"}
    assert "wrong-password" not in str(event.details)


def test_the_address_behind_a_trusted_proxy_is_the_clients(client, admin_user, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.1"]
    client.post(
        reverse("admin:login"),
        {"username": "root", "password": "wrong"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.4",
    )
    assert _last("auth.login_failed").address == "198.51.100.4"


def test_lockout_handler_records_the_account_and_address():
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="203.0.113.9")
    receivers.on_locked_out(sender="axes", request=request, username="root", ip_address="")
    event = _last("auth.lockout")
    assert event.details == {"username": "root"}
    assert event.address == "203.0.113.9"


@pytest.mark.skipif(not apps.is_installed("axes"), reason="django-axes is not installed")
def test_axes_lockout_signal_is_recorded():
    from axes.signals import user_locked_out

    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="203.0.113.10")
    user_locked_out.send("axes", request=request, username="root", ip_address="203.0.113.10")
    assert _last("auth.lockout").details == {"username": "root"}


# --- Rights -------------------------------------------------------------------------


def test_group_and_permission_changes_are_recorded_with_names():
    user = UserFactory(username="clerk", is_staff=False)
    group = Group.objects.create(name="Супервизоры")
    perm = Permission.objects.get(codename="view_personal_data")

    user.groups.add(group)
    groups = _last("auth.groups_changed")
    assert groups.object_ref == f"auth.user:{user.pk}"
    assert groups.details == {"added": [group.pk], "groups": ["Супервизоры"]}

    user.user_permissions.add(perm)
    perms = _last("auth.permissions_changed")
    assert perms.details == {"added": [perm.pk], "permissions": ["tickets.view_personal_data"]}

    group.permissions.add(perm)
    assert _last("auth.permissions_changed").object_ref == f"auth.group:{group.pk}"

    user.groups.remove(group)
    assert _last("auth.groups_changed").details["removed"] == [group.pk]

    group.user_set.add(user)  # the reverse side
    assert _last("auth.groups_changed").details == {"users": {"added": [user.pk]}}


def test_superuser_and_staff_flips_are_recorded_and_sign_in_saves_are_not():
    user = UserFactory(username="clerk", is_staff=False)
    before = AuditEvent.objects.count()
    user.last_name = "Новая"
    user.save()
    user.save(update_fields=["last_login"])
    assert AuditEvent.objects.count() == before

    user.is_superuser = True
    user.is_staff = True
    user.save()
    event = _last("auth.permissions_changed")
    assert event.details == {"flags": {"is_staff": [False, True], "is_superuser": [False, True]}}


def test_rights_changed_in_the_admin_name_who_changed_them(client, admin_user):
    clerk = UserFactory(username="clerk", is_staff=True)
    group = Group.objects.create(name="Первая линия")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:auth_user_change", args=[clerk.pk]),
        {
            "username": "clerk",
            "first_name": "",
            "last_name": "",
            "email": "",
            "is_active": "on",
            "is_staff": "on",
            "groups": [group.pk],
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
        REMOTE_ADDR="203.0.113.11",
    )
    assert response.status_code == 302, response.content[:2000]
    event = _last("auth.groups_changed")
    assert event.actor_id == admin_user.pk
    assert event.address == "203.0.113.11"
    assert event.details["groups"] == ["Первая линия"]


# --- Personal data, exports ------------------------------------------------------------


def test_opening_a_ticket_with_personal_data_in_full_is_recorded(client, queue, supervisor):
    ticket = new_ticket(queue)
    client.force_login(supervisor)
    assert client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).status_code == 200
    event = _last("personal_data.viewed")
    assert event.actor_id == supervisor.pk
    assert event.object_ref == f"tickets.ticket:{ticket.pk}"
    # The label names the appeal, never the citizen (it outlives anonymisation).
    assert event.object_label == ticket.reference
    assert event.details == {"contact": ticket.requester_id}


def test_opening_a_ticket_with_masked_data_is_not_recorded(client, queue):
    ticket = new_ticket(queue)
    operator = make_operator("first-line", extra_perms=("supervise",))
    client.force_login(operator)
    assert client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).status_code == 200
    assert _rows("personal_data.viewed") == []


def test_contact_page_and_list_in_full_are_recorded(client, queue, supervisor):
    ticket = new_ticket(queue)
    client.force_login(supervisor)
    assert client.get(reverse("admin:tickets_contact_changelist")).status_code == 200
    listed = _last("personal_data.viewed")
    assert listed.object_ref == "tickets.contact"
    page = reverse("admin:tickets_contact_change", args=[ticket.requester_id])
    assert client.get(page).status_code == 200
    assert _last("personal_data.viewed").object_ref == f"tickets.contact:{ticket.requester_id}"
    assert "Петрова" not in str(list(AuditEvent.objects.values_list("object_label", "details")))


def test_dashboard_csv_export_is_recorded(client, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("dashboard:export", args=["series"]))
    assert response.status_code == 200
    event = _last("export.csv")
    assert event.actor_id == supervisor.pk
    assert event.details["export"] == "series"


# --- Tickets --------------------------------------------------------------------------


def test_merge_is_recorded_with_both_numbers(queue, supervisor):
    source = new_ticket(queue, subject="Первое")
    target = new_ticket(queue, subject="Второе")
    ticket_merge(source=source, target=target, actor=supervisor)
    event = _last("ticket.merged")
    assert event.actor_id == supervisor.pk
    assert event.object_ref == f"tickets.ticket:{target.pk}"
    assert event.details["source"] == source.reference
    assert event.details["target"] == target.reference


def test_anonymisation_is_recorded_without_the_persons_data(queue):
    ticket = new_ticket(queue)
    contact_anonymise(contact=ticket.requester)
    event = _last("ticket.anonymised")
    assert event.object_ref == f"tickets.contact:{ticket.requester_id}"
    assert event.details == {"tickets": [ticket.reference], "count": 1}
    assert "Петрова" not in event.object_label


def test_everything_recorded_here_verifies(client, queue, supervisor):
    ticket = new_ticket(queue)
    client.force_login(supervisor)
    client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk]))
    UserFactory(username="clerk").groups.add(Group.objects.create(name="x"))
    assert audit_chain_verify().ok
