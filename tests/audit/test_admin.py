"""The audit log in the admin: superusers only, read-only, filtered, exported to CSV."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.models import AuditEvent
from audit.services import audit_record
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:audit_auditevent_changelist"


@pytest.fixture
def events(db):
    return [
        audit_record("auth.login", address="203.0.113.1"),
        audit_record("export.csv", object_ref="tickets.dashboard", details={"export": "series"}),
        audit_record("ticket.merged", object_ref="tickets.ticket:42", object_label="=HYPERLINK(1)"),
    ]


@pytest.fixture
def all_rights_staff(db):
    user = UserFactory(username="almost-root", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="audit"))
    return user


def test_superuser_browses_filters_and_searches_the_log(
    client, supervisor, events, django_assert_max_num_queries
):
    client.force_login(supervisor)
    with django_assert_max_num_queries(8):
        response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == AuditEvent.objects.count()

    filtered = client.get(reverse(CHANGELIST), {"action": "ticket.merged"})
    assert [e.action for e in filtered.context["cl"].result_list] == ["ticket.merged"]

    found = client.get(reverse(CHANGELIST), {"q": "tickets.ticket:42"})
    assert [e.pk for e in found.context["cl"].result_list] == [events[2].pk]
    prefix = client.get(reverse(CHANGELIST), {"q": "tickets."})
    assert {e.pk for e in prefix.context["cl"].result_list} == {events[1].pk, events[2].pk}


def test_staff_with_every_audit_permission_but_not_superuser_is_refused(
    client, all_rights_staff, events
):
    client.force_login(all_rights_staff)
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.get(reverse("admin:audit_auditevent_export")).status_code == 403
    page = reverse("admin:audit_auditevent_change", args=[events[0].pk])
    assert client.get(page).status_code == 403
    assert "audit" not in client.get(reverse("admin:index")).content.decode()


def test_nobody_adds_changes_or_deletes_a_row_in_the_admin(client, supervisor, events):
    client.force_login(supervisor)
    event = events[0]
    assert client.get(reverse("admin:audit_auditevent_add")).status_code == 403
    page = reverse("admin:audit_auditevent_change", args=[event.pk])
    view = client.get(page)
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    assert client.post(page, {"action": "auth.logout", "actor_label": "x"}).status_code == 403
    delete = reverse("admin:audit_auditevent_delete", args=[event.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse(CHANGELIST),
        {"action": "delete_selected", "_selected_action": [event.pk]},
    )
    assert bulk.status_code in (200, 302)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.action, stored.hash) == ("auth.login", event.hash)


def test_csv_export_of_the_filtered_list_escapes_formulas_and_is_itself_recorded(
    client, supervisor, events
):
    client.force_login(supervisor)
    response = client.get(reverse("admin:audit_auditevent_export"), {"q": "tickets.ticket:42"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:3] == ["id", "created_at", "actor_id"]
    assert len(rows) == 2
    assert rows[1][0] == str(events[2].pk)
    assert rows[1][7] == "'=HYPERLINK(1)"
    export = AuditEvent.objects.filter(action="export.csv").latest("id")
    assert export.actor_id == supervisor.pk
    assert export.details["export"] == "audit_log"
