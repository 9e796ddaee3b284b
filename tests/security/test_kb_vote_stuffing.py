"""The "was this helpful?" vote counts one vote per article per visitor cookie and per client
address (IPv6: per /64) a day: a new cookie, or a forged X-Forwarded-For, adds nothing.

The address part is a cache throttle (knowledge_base/services.py), not a database
constraint: an office behind one NAT address gets one new vote a day per article.
"""

import pytest
from django.test import Client

from tests.knowledge_base.factories import ArticleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def article():
    return ArticleFactory(slug="password-recovery")


def _vote(article, helpful="yes", *, client=None, **extra):
    client = client or Client()  # a fresh client has no visitor cookie
    return client.post(f"/kb/{article.slug}/vote/", {"helpful": helpful}, **extra)


def _counters(article):
    article.refresh_from_db()
    return article.helpful_yes, article.helpful_no


def test_dropping_the_visitor_cookie_does_not_cast_another_vote(article):
    for _ in range(5):
        assert _vote(article, REMOTE_ADDR="203.0.113.7").status_code == 302

    assert _counters(article) == (1, 0)


def test_rotating_forwarded_for_does_not_cast_another_vote(article, settings):
    settings.TRUSTED_PROXIES = []
    for i in range(5):
        _vote(article, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")

    assert _counters(article) == (1, 0)


def test_addresses_of_one_ipv6_64_cast_one_vote(article):
    for address in ("2001:db8:5:6::1", "2001:db8:5:6::2", "2001:db8:5:6:ffff:ffff:ffff:ffff"):
        _vote(article, REMOTE_ADDR=address)

    assert _counters(article) == (1, 0)


def test_one_visitor_moving_between_addresses_keeps_one_vote(article):
    client = Client()
    _vote(article, client=client, REMOTE_ADDR="203.0.113.7")
    _vote(article, client=client, REMOTE_ADDR="203.0.113.8")

    assert _counters(article) == (1, 0)


def test_a_visitor_may_still_change_their_mind(article):
    client = Client()
    _vote(article, "yes", client=client, REMOTE_ADDR="203.0.113.7")
    _vote(article, "no", client=client, REMOTE_ADDR="203.0.113.7")

    assert _counters(article) == (0, 1)


def test_one_address_may_vote_on_each_article(article):
    other = ArticleFactory(slug="other-article")
    _vote(article, REMOTE_ADDR="203.0.113.7")
    _vote(other, REMOTE_ADDR="203.0.113.7")

    assert _counters(article) == (1, 0)
    assert _counters(other) == (1, 0)
