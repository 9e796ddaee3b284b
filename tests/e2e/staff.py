"""Browser pages of a signed-in staff member (the sign-in form has its own tests)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

LOCALES = {"ru": "ru-RU", "en": "en-US"}


def staff_cookie(user, url: str) -> dict:
    """The session cookie of `user`, signed in, for a browser context on `url`."""
    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }


def signed_in_page(browser, url: str, username: str, lang: str = "ru", width=1366, height=900):
    """A new page, in its own context, whose session belongs to `username`."""
    context = browser.new_context(viewport={"width": width, "height": height}, locale=LOCALES[lang])
    context.add_cookies([staff_cookie(get_user_model().objects.get(username=username), url)])
    return context.new_page()
