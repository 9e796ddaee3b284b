"""helpdesk.W001: production without Redis keeps shared counts in one process's memory."""

from helpdesk.checks import check_shared_state


def test_production_without_redis_is_warned_that_limits_and_chats_stay_in_one_process(
    settings,
):
    settings.DEBUG = False
    settings.REDIS_URL = ""
    assert [message.id for message in check_shared_state()] == ["helpdesk.W001"]


def test_production_with_redis_gets_no_shared_state_warning(settings):
    settings.DEBUG = False
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    assert check_shared_state() == []
