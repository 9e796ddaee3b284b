"""`/ws/telephony/pop/`: an operator's admin pages listen here for their screen pops.

Who may connect: an active staff session that passes the staff sign-in checks
(`session_may_work`) and may read tickets. The socket joins only its own user's pop
group; it sends nothing the operator did not ask for, and takes no commands. On each
pop the user is read again, so a socket whose rights or session are gone closes (4403)
instead of showing a caller to someone who may no longer see them.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model

from staffauth.sessions import session_may_work
from telephony.pop import pop_group, screen_pop_for
from tickets.access import user_works_tickets


def in_thread(func):
    return database_sync_to_async(func, thread_sensitive=False)


class ScreenPopConsumer(AsyncJsonWebsocketConsumer):
    group = ""

    def _allowed(self, user_id: int):
        """The user as the database has them now, if they may still have pops."""
        user = get_user_model().objects.filter(pk=user_id).first()
        session = self.scope.get("session")
        if user is None or not user_works_tickets(user):
            return None
        if session is None or not session_may_work(session, user):
            return None
        return user

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4403)
            return
        self.user = await in_thread(self._allowed)(user.pk)
        if self.user is None:
            await self.close(code=4403)
            return
        self.group = pop_group(self.user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        """Nothing to receive: the socket only listens."""

    async def phone_pop(self, event):
        user = await in_thread(self._allowed)(self.user.pk)
        if user is None:
            await self.close(code=4403)
            return
        self.user = user
        panel = await in_thread(screen_pop_for)(user, event["record"])
        if panel is not None:
            await self.send_json(panel)
