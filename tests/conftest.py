"""Shared fixtures. Markers: postgres, redis, browser, dovecot (see pyproject.toml)."""

import os
import shutil
import subprocess
import sys

import pytest
from django.conf import settings
from django.db.backends.signals import connection_created

from tests.factories import ContactFactory, QueueFactory, UserFactory

ARTIFACTS_DIR = settings.BASE_DIR / "artifacts"

# Debian's Chromium, headless, with nothing that reaches for the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def _audit_truncate_allowed(sender, connection, **kwargs):
    """The flush between transactional tests TRUNCATEs every table. On PostgreSQL the
    audit log refuses TRUNCATE (audit migration 0002) unless the table's owner — the
    test runner's role — sets this for its session; the site's runtime role, not the
    owner, gains nothing by setting it (docs/security.md, "Audit log")."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('audit.allow_truncate', 'on', false)")


connection_created.connect(_audit_truncate_allowed, dispatch_uid="tests.audit_truncate")


def pytest_collection_modifyitems(config, items):
    """Skip tests whose real server is absent, saying which and how to provide it."""
    vendor = settings.DATABASES["default"]["ENGINE"]
    reasons = {
        "postgres": None
        if "postgresql" in vendor
        else "needs PostgreSQL: set DATABASE_URL=postgres://postgres@127.0.0.1:5432/test",
        "redis": None
        if settings.REDIS_URL
        else "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/0",
        "browser": None
        if os.path.exists("/usr/bin/chromium")
        else "needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
        "dovecot": None
        if shutil.which("dovecot") or os.path.exists("/usr/sbin/dovecot")
        else "needs Debian's dovecot-imapd (apt-get install dovecot-imapd)",
    }
    for item in items:
        for marker, reason in reasons.items():
            if reason and item.get_closest_marker(marker):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(autouse=True)
def _isolated_settings(settings, tmp_path):
    """Each test: locmem mail, eager Celery, its own media folder, fresh cache."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # Staff sign in with a password only unless a test turns the second factor on.
    settings.STAFF_MFA_REQUIRED = False
    from helpdesk.celery import app

    app.conf.task_always_eager = True
    from django.core.cache import cache

    cache.clear()
    from tickets import notify

    # Per-process cache of the queue addresses: a rolled-back test fires no signal.
    notify.queue_addresses_forget()
    from webhooks.services import subscriptions_forget

    # Per-process cache of the active webhook subscriptions (5 s): not across tests.
    subscriptions_forget()
    yield


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test databases, with every other connection to them closed first.

    Tests leave connections behind that pytest-django never sees: in asgiref's one
    long-lived thread (`database_sync_to_async` for a test's own event loop), in the
    contexts of finished event loops until they are collected, and in the greenlet
    Playwright's sync API runs a browser test's ORM calls in. On PostgreSQL the test
    database then could not be dropped ("is being accessed by other users") and was
    left behind. The daphne processes of the live tests have exited by now.
    """
    # Tests start from an empty desk: the queue migration 0008 makes on a fresh install
    # would join every queue list. tests/tickets/test_fresh_install.py makes it itself.
    from tickets.models import DEFAULT_QUEUE_SLUG, Queue

    with django_db_blocker.unblock():
        Queue.objects.filter(slug=DEFAULT_QUEUE_SLUG).delete()
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture
def artifacts_dir():
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture
def queue(db):
    return QueueFactory(
        name="Сайт Навигатора", slug="navigator", email_address="navigator@support.example"
    )


@pytest.fixture
def other_queue(db):
    return QueueFactory(
        name="Система бронирования", slug="booking", email_address="booking@support.example"
    )


@pytest.fixture
def contact(db):
    return ContactFactory(
        full_name="Петрова Мария Ивановна", email="maria@example.com", phone="+79001234567"
    )


@pytest.fixture
def operator(db):
    return UserFactory(username="operator", is_staff=True)


@pytest.fixture
def supervisor(db):
    return UserFactory(username="supervisor", is_staff=True, is_superuser=True)


@pytest.fixture
def translations():
    """Compile the Russian translations (not committed) and drop Django's cached catalogs."""
    from django.utils.translation import trans_real

    subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "bin" / "compile-messages")],
        check=True,
        capture_output=True,
    )
    trans_real._translations = {}
    trans_real._default = None


@pytest.fixture
def browser(translations, monkeypatch):
    """Chromium through Playwright's sync API (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; tests also use the ORM
    # between page loads, which Django would otherwise refuse.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
