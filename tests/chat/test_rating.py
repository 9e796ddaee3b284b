"""The citizen's 1-5 rating of a chat once it has ended (issue 20, item 5): once per
chat, only with that chat's token, shown on the ticket page and counted on the dashboard.
"""

import threading

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from chat import services
from chat.dashboard import chat_waiting_metrics, chat_waiting_summary, chat_waiting_tiles
from chat.models import ChatSession
from chat.selectors import TOKEN_SALT, chat_token_for
from tests.chat.conftest import online, start
from tests.tickets.dashboard.conftest import make_filters
from tickets.models import TicketEvent
from tickets.services import contact_anonymise

pytestmark = pytest.mark.django_db

URL = "/chat/rating/"


def ended_chat(queue, operator, capture, **kwargs) -> ChatSession:
    """A chat an operator took and then ended."""
    online(operator)
    with capture(execute=True):
        session = start(queue, **kwargs)
    session.refresh_from_db()
    assert session.status == ChatSession.Status.ACTIVE
    with capture(execute=True):
        services.chat_end(session_id=session.pk, actor=operator)
    session.refresh_from_db()
    return session


@pytest.fixture
def ended(queue, chat_operator, django_capture_on_commit_callbacks):
    return ended_chat(queue, chat_operator, django_capture_on_commit_callbacks)


def rate(client, session_or_token, **data):
    token = (
        session_or_token if isinstance(session_or_token, str) else chat_token_for(session_or_token)
    )
    return client.post(URL, data, HTTP_X_CHAT_TOKEN=token)


def test_citizen_rates_an_ended_chat_with_a_comment(client, ended):
    response = rate(client, ended, rating="4", comment="  Быстро помогли  ")

    assert response.status_code == 200
    assert response.json() == {"ok": True, "rating": 4, "already": False}
    ended.refresh_from_db()
    assert (ended.rating, ended.rating_comment) == (4, "Быстро помогли")
    assert ended.rated_at is not None
    event = ended.ticket.events.get(kind=TicketEvent.Kind.SATISFACTION)
    assert (event.field, event.new_value, event.note) == ("chat_rating", "4/5", "Быстро помогли")


def test_a_second_rating_or_a_replay_changes_nothing_and_counts_once(client, ended):
    first = rate(client, ended, rating="5")
    replay = rate(client, ended, rating="5")
    other = rate(client, ended, rating="1", comment="передумал")

    assert first.json()["already"] is False
    assert replay.json() == other.json() == {"ok": True, "rating": 5, "already": True}
    ended.refresh_from_db()
    assert (ended.rating, ended.rating_comment) == (5, "")
    assert ended.ticket.events.filter(field="chat_rating").count() == 1
    assert chat_waiting_summary(make_filters("period=7d", now=timezone.now()))["rated"] == 1


@pytest.mark.parametrize("value", ["0", "6", "-1", "4.5", "5 ", "five", "", "9" * 30])
def test_a_rating_outside_1_to_5_is_refused(client, ended, value):
    response = rate(client, ended, rating=value)

    assert response.status_code == 400
    assert "rating" in response.json()["errors"]
    ended.refresh_from_db()
    assert ended.rating is None


def test_the_service_refuses_a_rating_outside_1_to_5_whatever_the_caller(ended):
    for value in (0, 6, True, 4.0, "4"):
        with pytest.raises(ValidationError):
            services.chat_rate(session=ended, rating=value)


def test_the_database_refuses_a_rating_outside_1_to_5(ended):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ChatSession.objects.filter(pk=ended.pk).update(rating=7)


def test_a_comment_is_cut_to_its_limit(client, ended):
    response = rate(client, ended, rating="3", comment="x" * 1001)
    assert response.status_code == 400  # the form says so; the service cuts as well

    session, _created = services.chat_rate(session=ended, rating=3, comment="y" * 5000)
    assert len(session.rating_comment) == services.RATING_COMMENT_MAX_CHARS


def test_an_open_chat_cannot_be_rated(
    client, queue, chat_operator, django_capture_on_commit_callbacks
):
    online(chat_operator)
    with django_capture_on_commit_callbacks(execute=True):
        session = start(queue)
    session.refresh_from_db()
    assert session.status == ChatSession.Status.ACTIVE

    response = rate(client, session, rating="5")

    assert response.status_code == 409
    session.refresh_from_db()
    assert session.rating is None


def test_a_chat_nobody_took_cannot_be_rated(client, queue):
    offline = start(queue)  # nobody online: left as a message
    assert offline.status == ChatSession.Status.OFFLINE

    assert rate(client, offline, rating="1").status_code == 409
    offline.refresh_from_db()
    assert offline.rating is None


def test_a_chat_ended_while_still_waiting_cannot_be_rated(
    client, queue, chat_operator, settings, django_capture_on_commit_callbacks
):
    settings.CHAT_ROUTING = "manual"
    online(chat_operator)
    with django_capture_on_commit_callbacks(execute=True):
        session = start(queue)
        services.chat_end(session_id=session.pk, by_citizen=True)

    assert rate(client, session, rating="2").status_code == 409


def test_without_the_chats_token_nothing_is_rated(client, ended):
    """A session id, a ticket number or a forged token never open a chat for rating."""
    forged = signing.dumps({"s": ended.pk, "k": "guessed"}, salt=TOKEN_SALT, compress=True)
    unsigned = f"{ended.pk}:{ended.secret}"
    wrong_salt = signing.dumps({"s": ended.pk, "k": ended.secret}, compress=True)
    attempts = [
        client.post(URL, {"rating": "1"}),
        client.post(URL, {"rating": "1", "session": ended.pk, "number": ended.ticket.reference}),
        rate(client, forged, rating="1"),
        rate(client, unsigned, rating="1"),
        rate(client, wrong_salt, rating="1"),
    ]

    assert [r.status_code for r in attempts] == [403] * 5
    ended.refresh_from_db()
    assert ended.rating is None


def test_another_chats_token_rates_only_that_other_chat(
    client, queue, chat_operator, django_capture_on_commit_callbacks
):
    mine = ended_chat(queue, chat_operator, django_capture_on_commit_callbacks)
    theirs = ended_chat(
        queue, chat_operator, django_capture_on_commit_callbacks, email="x@example.com"
    )

    response = client.post(
        URL, {"rating": "1", "session": mine.pk}, HTTP_X_CHAT_TOKEN=chat_token_for(theirs)
    )

    assert response.status_code == 200
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (mine.rating, theirs.rating) == (None, 1)


def test_a_revoked_token_rates_nothing(client, ended):
    token = chat_token_for(ended)
    ended.secret = "rotated"
    ended.save(update_fields=["secret"])

    assert rate(client, token, rating="5").status_code == 403


def test_rating_is_rate_limited_per_address(client, ended, settings):
    statuses = {rate(client, ended, rating="5").status_code for _ in range(12)}
    assert statuses == {200, 429}


@pytest.mark.django_db(transaction=True)
def test_two_ratings_at_once_store_one(queue, chat_operator):
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("needs a database two threads can write: PostgreSQL or TEST_SQLITE_NAME")
    online(chat_operator)
    session = start(queue)
    services.chat_route()
    services.chat_end(session_id=session.pk, actor=chat_operator)
    barrier = threading.Barrier(4)
    results = []

    def submit(value):
        barrier.wait()
        try:
            results.append(services.chat_rate(session=session, rating=value)[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(v,)) for v in (1, 2, 3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False, False, False, True]
    assert TicketEvent.objects.filter(field="chat_rating").count() == 1


def test_ticket_page_shows_the_chat_rating_to_staff(client, supervisor, ended):
    services.chat_rate(session=ended, rating=2, comment="Долго ждал ответа")
    client.force_login(supervisor)

    html = client.get(f"/admin/tickets/ticket/{ended.ticket.pk}/change/").content.decode()

    assert 'id="ws-panel-chat-rating"' in html
    assert "2 из 5" in html and "Долго ждал ответа" in html
    assert "оценка чата" in html  # the history entry, in words


def test_ticket_page_has_no_rating_panel_before_a_rating(client, supervisor, ended):
    client.force_login(supervisor)
    html = client.get(f"/admin/tickets/ticket/{ended.ticket.pk}/change/").content.decode()
    assert "ws-panel-chat-rating" not in html


def test_dashboard_counts_chat_ratings_with_their_average(
    queue, chat_operator, django_capture_on_commit_callbacks
):
    for value in (5, 4, 2):
        session = ended_chat(
            queue, chat_operator, django_capture_on_commit_callbacks, email=f"{value}@example.com"
        )
        services.chat_rate(session=session, rating=value)
    ended_chat(queue, chat_operator, django_capture_on_commit_callbacks, email="no@example.com")

    figures = chat_waiting_summary(make_filters("period=7d", now=timezone.now()))

    assert (figures["rated"], figures["rating_average"]) == (3, 3.67)
    assert chat_waiting_metrics(figures)["rating_average"] == 3.67
    tile = next(t for t in chat_waiting_tiles(figures) if t["key"] == "chat_rating")
    assert tile["value"].endswith("/ 5")


def test_dashboard_page_shows_the_chat_rating_tile(client, supervisor, ended):
    services.chat_rate(session=ended, rating=5)
    client.force_login(supervisor)

    html = client.get("/dashboard/?period=7d").content.decode()

    assert "Оценка чатов" in html


def test_anonymising_the_requester_erases_the_rating_comment(ended):
    services.chat_rate(session=ended, rating=1, comment="Мария, +7 900 123-45-67")

    contact_anonymise(contact=ended.ticket.requester)

    ended.refresh_from_db()
    assert (ended.rating, ended.rating_comment) == (1, "")
