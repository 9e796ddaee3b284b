"""Websocket routes: the citizen's chat and the operator console."""

from django.urls import path

from chat import consumers

websocket_urlpatterns = [
    path("ws/chat/", consumers.CitizenChatConsumer.as_asgi()),
    path("ws/chat/operator/", consumers.OperatorConsoleConsumer.as_asgi()),
]
