"""The `history_recorded` receiver: ticket history → webhook deliveries (an adapter)."""

from webhooks.services import deliveries_record, subscriptions_active


def on_history_recorded(sender, events, **kwargs) -> None:
    subscriptions = subscriptions_active()
    if not subscriptions:  # the common case, and the chat's hot path: nothing to do
        return
    deliveries_record(events=events, subscriptions=subscriptions)
