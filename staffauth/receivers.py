"""Every staff sign-in (our two-step view, `force_login`, any other door) stamps and
registers its session, so that the per-request checks need no query."""

from django.contrib.auth.signals import user_logged_in, user_logged_out

from staffauth.sessions import session_forget, session_start


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="staffauth_session_start")
    user_logged_out.connect(on_logout, dispatch_uid="staffauth_session_forget")


def on_login(sender, request, user, **kwargs) -> None:
    if request is not None and user.is_staff and hasattr(request, "session"):
        session_start(request, user)


def on_logout(sender, request, user, **kwargs) -> None:
    if request is not None and user is not None and user.is_staff:
        session_forget(request)
