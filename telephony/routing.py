"""Websocket routes of telephony: the operators' screen pop."""

from django.urls import path

from telephony import consumers

websocket_urlpatterns = [
    path("ws/telephony/pop/", consumers.ScreenPopConsumer.as_asgi()),
]
