"""Websocket routes (the chat consumers are added by the live-chat work)."""

websocket_urlpatterns: list = []
