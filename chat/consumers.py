"""Websocket adapters: the citizen's chat (/ws/chat/) and the operator console
(/ws/chat/operator/). They parse frames, check who may do what, call chat.services, and
relay group events; lines reach every listener through the ticket's group.

Frames are JSON objects with a "type". Replies to the sender: "ack" {seq, id} once a line
is stored, "error" {code, message}. Pushed: "line", "state", "queue", "typing",
"delivered" (and for consoles "assigned", "released", "presence"). A console's "queue"
is {order, added, count}: the listed chats' ids in order, and the summaries of those it
was not sent before (its "init" carries the full list).
"""

import asyncio
import logging
import time
from collections import deque

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from chat import access, limits, lines, selectors, services
from chat.models import ChatSession
from staffauth.sessions import session_may_work
from tickets.events import ticket_group_name

logger = logging.getLogger(__name__)

HELLO_TIMEOUT_SECONDS = 15
TYPING_MIN_INTERVAL = 1.5
# A change of the waiting line reaches a socket at most this much later; a burst of
# changes within it is shown once.
QUEUE_REFRESH_SECONDS = 0.5


def in_thread(func):
    """`func` as a coroutine run on the thread pool, cleaning up database connections.

    Never on the process's one thread-sensitive thread (asgiref's default): every socket
    of the process would queue behind whatever ran there. Lines of different chats are
    stored in parallel; the lines of one socket stay in order because a consumer handles
    one frame at a time.
    """
    return database_sync_to_async(func, thread_sensitive=False)


_waiting_line: tuple | None = None  # (event loop, loop time the read began, its future)


async def waiting_line(since: float) -> dict:
    """The waiting line read no earlier than `since` (loop time), shared by the sockets
    of this process: one read serves every socket told of the same change, and each read
    summarises only the chats the last one (of the same event loop) did not list."""
    global _waiting_line
    loop = asyncio.get_running_loop()
    same_loop = _waiting_line is not None and _waiting_line[0] is loop
    if not same_loop or _waiting_line[1] < since:
        last = _waiting_line[2] if same_loop else None
        known = {}
        if last is not None and last.done() and not last.cancelled() and not last.exception():
            known = {summary["id"]: summary for summary in last.result()["waiting"]}
        read = in_thread(selectors.waiting_line)(known=known)
        _waiting_line = (loop, loop.time(), asyncio.ensure_future(read))
    return await asyncio.shield(_waiting_line[2])


class SocketRateLimiter:
    """Sliding window per socket: at most `limit` frames per `window` seconds."""

    def __init__(self, limit: int, window: float = 10.0):
        self.limit = limit
        self.window = window
        self.stamps: deque[float] = deque()

    def allow(self) -> bool:
        if self.limit <= 0:
            return True
        now = time.monotonic()
        while self.stamps and now - self.stamps[0] > self.window:
            self.stamps.popleft()
        if len(self.stamps) >= self.limit:
            return False
        self.stamps.append(now)
        return True


def _as_int(value, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


class _ChatConsumerBase(AsyncJsonWebsocketConsumer):
    queue_changed_at = 0.0
    queue_refresh: asyncio.Task | None = None

    async def dispatch(self, message):
        # Channels runs close_old_connections() before every handler, on the one
        # thread-sensitive thread of the process, so every frame and group event of every
        # socket took a turn on that thread (and waited behind any query running there).
        # These handlers touch the database only through in_thread(), which cleans up
        # connections in its own thread.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def join(self, group: str) -> None:
        if group not in self.joined:
            self.joined.add(group)
            await self.channel_layer.group_add(group, self.channel_name)

    async def leave(self, group: str) -> None:
        if group in self.joined:
            self.joined.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def disconnect(self, code):
        if self.queue_refresh is not None:
            self.queue_refresh.cancel()
        for group in list(getattr(self, "joined", ())):
            await self.channel_layer.group_discard(group, self.channel_name)
        self.joined = set()

    def queue_changed(self) -> None:
        """The waiting line changed: show it soon, once for a burst of changes."""
        self.queue_changed_at = asyncio.get_running_loop().time()
        if self.queue_refresh is None or self.queue_refresh.done():
            self.queue_refresh = asyncio.ensure_future(self._refresh_queue())

    async def _refresh_queue(self) -> None:
        while True:
            await asyncio.sleep(QUEUE_REFRESH_SECONDS)
            since = self.queue_changed_at
            try:
                line = await waiting_line(since)
            except Exception:  # noqa: BLE001 - the next change or reconnect shows it
                logger.warning("could not read the waiting line", exc_info=True)
                return
            await self.show_queue(line)
            if self.queue_changed_at == since:
                return

    async def show_queue(self, line: dict) -> None:
        raise NotImplementedError

    async def send_error(self, code: str, message: str = "", **extra) -> None:
        await self.send_json({"type": "error", "code": code, "message": message, **extra})

    async def say(self, call, *, seq, reply: dict | None = None, **kwargs):
        """Store a line through `call`, answering "ack" (or "error") to the sender."""
        reply = reply or {}
        try:
            message = await in_thread(call)(seq=seq, **kwargs)
        except services.ChatError as exc:
            await self.send_error(exc.code, exc.message, seq=seq, **reply)
            return
        await self.send_json(
            {
                "type": "ack",
                "seq": seq,
                "id": message.pk if message else None,
                "duplicate": message is None,
                **reply,
            }
        )


def in_cache_thread(func):
    """`func` (cache calls only) on the thread pool, off the thread-sensitive thread."""
    return sync_to_async(func, thread_sensitive=False)


class CitizenChatConsumer(_ChatConsumerBase):
    """One citizen's chat. The first frame must be {"type": "hello", "token": ...}.

    Flood limits are per chat session, shared by all its sockets (chat/limits.py): lines
    per 10 seconds, and at most CHAT_MAX_SOCKETS_PER_SESSION sockets (close code 4429).
    """

    slot: limits.SocketSlot | None = None
    slot_keeper: asyncio.Task | None = None

    async def connect(self):
        self.joined: set[str] = set()
        self.session_id: int | None = None
        self.status = ""
        self.last_typing = 0.0
        await self.accept()
        self._hello_timer = asyncio.get_running_loop().call_later(
            HELLO_TIMEOUT_SECONDS, lambda: asyncio.ensure_future(self._close_unauthenticated())
        )

    async def _close_unauthenticated(self):
        if self.session_id is None:
            await self.close(code=4401)

    async def disconnect(self, code):
        timer = getattr(self, "_hello_timer", None)
        if timer is not None:
            timer.cancel()
        if self.slot_keeper is not None:
            self.slot_keeper.cancel()
        if self.slot is not None:
            slot, self.slot = self.slot, None
            await in_cache_thread(limits.socket_slot_release)(slot)
        await super().disconnect(code)

    async def _keep_slot(self) -> None:
        """Refresh this socket's slot while it is open: a slot left behind by a process
        that died expires (chat/limits.py)."""
        while True:
            await asyncio.sleep(limits.SLOT_REFRESH_SECONDS)
            try:
                await in_cache_thread(limits.socket_slot_refresh)(self.slot)
            except Exception:  # noqa: BLE001 - the cache is back by the next round
                logger.warning("could not refresh a chat socket slot", exc_info=True)

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if self.session_id is None:
            if kind == "hello":
                await self.hello(content)
            else:
                await self.send_error("unauthenticated")
                await self.close(code=4401)
            return
        if kind == "ping":
            if "since" in content:
                await self.catch_up(_as_int(content.get("since")))
            await self.send_json({"type": "pong"})
        elif kind == "message":
            await self.say(
                self._say_within_limit,
                seq=_as_int(content.get("seq")),
                text=str(content.get("text") or ""),
            )
        elif kind == "typing":
            now = time.monotonic()
            if now - self.last_typing >= TYPING_MIN_INTERVAL:
                self.last_typing = now
                await self.channel_layer.group_send(
                    services.session_group(self.session_id),
                    {"type": "chat.typing", "who": "citizen", "session": self.session_id},
                )
        elif kind == "delivered":
            ids = [_as_int(i) for i in (content.get("ids") or [])][:100]
            if ids:
                await self.channel_layer.group_send(
                    services.session_group(self.session_id),
                    {
                        "type": "chat.delivered",
                        "by": "citizen",
                        "ids": ids,
                        "session": self.session_id,
                    },
                )
        elif kind == "end":
            await in_thread(services.chat_end)(session_id=self.session_id, by_citizen=True)

    async def catch_up(self, since: int) -> None:
        """Send again the lines stored after `since` (the widget's newest line at its
        previous ping). Pushes reach a socket at most once: one published while Redis was
        away is lost for a socket that stayed open through the outage (a socket that
        reconnects reloads from the database anyway). The widget skips lines it shows."""
        for line in await in_thread(self._lines_after)(since):
            await self.send_json({"type": "line", "line": line})

    def _lines_after(self, since: int) -> list[dict]:
        session = ChatSession.objects.select_related("ticket").get(pk=self.session_id)
        return selectors.session_lines(session, after_id=since)

    async def hello(self, content):
        self._hello_timer.cancel()
        welcome = await in_thread(self._load)(
            str(content.get("token") or ""), _as_int(content.get("last_id"))
        )
        if welcome is None:
            await self.send_error("bad_token", _("This chat link is not valid any more."))
            await self.close(code=4403)
            return
        if self.slot is None:
            await self.send_error(
                "too_many_sockets",
                _("This chat is open in too many windows. Close one of them."),
            )
            await self.close(code=4429)
            return
        self.slot_keeper = asyncio.ensure_future(self._keep_slot())
        await self.join(services.session_group(self.session_id))
        await self.join(ticket_group_name(self.ticket_id))
        if self.status == ChatSession.Status.WAITING:
            await self.join(services.WAITING_GROUP)
        await self.send_json(welcome)

    def _load(self, token: str, last_id: int) -> dict | None:
        session = selectors.access_chat_for_citizen(token)
        if session is None:
            return None
        self.slot = limits.socket_slot_acquire(session_id=session.pk, owner=self.channel_name)
        if self.slot is None:
            return {}
        self.session_id = session.pk
        self.ticket_id = session.ticket_id
        self.first_message_id = session.first_message_id or 0
        self.status = session.status
        welcome = {
            "type": "welcome",
            "session": session.pk,
            "number": session.ticket.reference,
            "status": session.status,
            "operator": selectors.operator_public_name(session.operator),
            "acked": session.citizen_seq,
            "lines": selectors.session_lines(session, after_id=last_id),
            "position": None,
            "eta": None,
        }
        if session.status == ChatSession.Status.WAITING:
            order = selectors.waiting_order()
            per = selectors.seconds_per_position()
            if session.pk in order:
                position = order.index(session.pk) + 1
                welcome["position"] = position
                welcome["eta"] = position * per if per else None
        return welcome

    def _say_within_limit(self, *, seq: int, text: str):
        # Checked in the thread that stores the line: one hop off the event loop per line.
        if not limits.chat_line_allowed(session_id=self.session_id):
            raise services.ChatError("rate_limited", _("You are sending too fast."))
        return lines.chat_citizen_say(session_id=self.session_id, seq=seq, text=text)

    # --- group events -------------------------------------------------------------

    async def ticket_event(self, event):
        message = event.get("message")
        if event.get("event") != "message.new" or not message or message.get("is_internal"):
            return
        if message["id"] < self.first_message_id:
            return
        await self.send_json({"type": "line", "line": {**message, "files": []}})

    async def chat_files(self, event):
        await self.send_json({"type": "line", "line": event["line"]})

    async def chat_state(self, event):
        self.status = event["status"]
        if self.status != ChatSession.Status.WAITING:
            await self.leave(services.WAITING_GROUP)
        await self.send_json(
            {
                "type": "state",
                "status": event["status"],
                "number": event["number"],
                "operator": event["operator"],
                "reason": event.get("reason", ""),
            }
        )

    async def chat_queue_changed(self, event):
        if self.status == ChatSession.Status.WAITING:
            self.queue_changed()

    async def show_queue(self, line: dict) -> None:
        if self.status != ChatSession.Status.WAITING:
            return
        try:
            position = line["order"].index(self.session_id) + 1
        except ValueError:
            return
        per = line["per"]
        await self.send_json(
            {"type": "queue", "position": position, "eta": position * per if per else None}
        )

    async def chat_typing(self, event):
        if event["who"] == "operator":
            await self.send_json({"type": "typing"})

    async def chat_delivered(self, event):
        if event["by"] == "operator":
            await self.send_json({"type": "delivered", "ids": event["ids"]})


class OperatorConsoleConsumer(_ChatConsumerBase):
    """An operator's console: staff session with the chat permission (chat.access); the
    chats of the operator's queues; several chats over one socket. Rights are read again
    on every heartbeat: a console whose rights are gone is closed with 4403."""

    shown_waiting: frozenset[int] | set[int] = frozenset()  # chats whose summaries it has
    LISTED = 100

    async def connect(self):
        self.joined = set()
        user = self.scope.get("user")
        rights = None
        if user is not None and user.is_authenticated:
            user = await in_thread(access.operator_fresh)(user.pk)
            rights = await in_thread(access.console_rights)(user) if user else None
        if rights is not None and not await in_thread(self.session_may_work)(user):
            rights = None
        if rights is None:
            await self.close(code=4403)
            return
        self.user = user
        self.rights = rights
        self.chats: dict[int, int] = {}  # session id -> ticket id
        self.limiter = SocketRateLimiter(settings.CHAT_RATE_LIMIT * 3)
        await self.accept()
        await self.join(services.OPERATORS_GROUP)
        await self.join(services.operator_group(user.pk))
        init = await in_thread(self._init)()
        self.shown_waiting = {summary["id"] for summary in init["waiting"]}
        for session_id, ticket_id in self.chats.items():
            await self.join(services.session_group(session_id))
            await self.join(ticket_group_name(ticket_id))
        await self.send_json(init)

    def _init(self) -> dict:
        presence = services.presence_get(user=self.user)
        services.presence_touch(user=self.user)
        chats = []
        for session in selectors.operator_sessions(self.user).select_related("ticket__requester"):
            self.chats[session.pk] = session.ticket_id
            chats.append(
                {
                    **access.summary_for(self.rights, selectors.session_summary(session)),
                    "lines": selectors.session_lines(session, internal=True),
                }
            )
        queue_ids = self.rights.queue_ids
        waiting = selectors.waiting_summaries(self.LISTED, queue_ids=queue_ids)
        return {
            "type": "init",
            "me": {"id": self.user.pk, "name": selectors.user_display(self.user)},
            "presence": {"availability": presence.availability, "max_chats": presence.max_chats},
            "routing": settings.CHAT_ROUTING,
            "max_chars": settings.CHAT_MESSAGE_MAX_CHARS,
            "chats": chats,
            "waiting": [access.summary_for(self.rights, summary) for summary in waiting],
            "count": selectors.waiting_count(queue_ids),
            "canned": selectors.canned_responses(None if queue_ids is None else sorted(queue_ids)),
            "operators": selectors.operators_for_transfer(exclude_user=self.user),
        }

    def session_may_work(self, user) -> bool:
        """The staff session behind this socket still passes the sign-in checks (second
        factor, lifetime, not signed out everywhere): pages check them per request in
        staffauth's middleware, which a websocket never passes through."""
        session = self.scope.get("session")
        return session is not None and session_may_work(session, user)

    async def recheck_rights(self) -> bool:
        """Read the operator's rights again; close the console (4403) when they are gone."""
        user = await in_thread(access.operator_fresh)(self.user.pk)
        rights = await in_thread(access.console_rights)(user) if user else None
        if rights is not None and not await in_thread(self.session_may_work)(user):
            rights = None
        if rights is None:
            await self.send_error("forbidden", _("You may not use the chat console any more."))
            await self.close(code=4403)
            return False
        self.user = user
        if rights != self.rights:
            self.rights = rights
            self.queue_changed()  # other queues: show the line this console may see now
        return True

    async def receive_json(self, content, **kwargs):
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        session_id = _as_int(content.get("session"))
        if kind in ("message", "typing", "delivered", "transfer", "end", "history") and (
            session_id not in self.chats
        ):
            await self.send_error(
                "not_yours",
                _("This chat is not yours or has ended."),
                seq=content.get("seq"),
                session=session_id,
            )
            return
        if kind == "heartbeat":
            if not await self.recheck_rights():
                return
            await in_thread(services.presence_touch)(user=self.user)
            await self.send_json({"type": "pong"})
        elif kind == "presence":
            await self.presence(content)
        elif kind == "accept":
            if not await self.recheck_rights():
                return
            try:
                await in_thread(services.chat_accept)(session_id=session_id, operator=self.user)
            except (services.ChatError, ChatSession.DoesNotExist) as exc:
                code = getattr(exc, "code", "missing")
                await self.send_error(code, getattr(exc, "message", ""), session=session_id)
        elif kind == "message":
            if not self.limiter.allow():
                await self.send_error(
                    "rate_limited",
                    _("You are sending too fast."),
                    seq=content.get("seq"),
                    session=session_id,
                )
                return
            await self.say(
                lines.chat_operator_say,
                reply={"session": session_id},
                session_id=session_id,
                operator=self.user,
                seq=_as_int(content.get("seq")),
                text=str(content.get("text") or ""),
            )
        elif kind == "typing":
            await self.channel_layer.group_send(
                services.session_group(session_id),
                {"type": "chat.typing", "who": "operator", "session": session_id},
            )
        elif kind == "delivered":
            ids = [_as_int(i) for i in (content.get("ids") or [])][:100]
            await self.channel_layer.group_send(
                services.session_group(session_id),
                {"type": "chat.delivered", "by": "operator", "ids": ids, "session": session_id},
            )
        elif kind == "transfer":
            await self.transfer(session_id, content)
        elif kind == "end":
            try:
                await in_thread(services.chat_end)(session_id=session_id, actor=self.user)
            except services.ChatError as exc:
                await self.send_error(exc.code, exc.message, session=session_id)
        elif kind == "history":
            history = await in_thread(self._lines)(session_id, _as_int(content.get("after_id")))
            await self.send_json({"type": "history", "session": session_id, "lines": history})
        elif kind == "kb":
            found = await in_thread(selectors.kb_suggestions)(str(content.get("q") or "")[:200])
            await self.send_json({"type": "kb", "results": found, "q": content.get("q")})
        elif kind == "operators":
            found = await in_thread(selectors.operators_for_transfer)(exclude_user=self.user)
            await self.send_json({"type": "operators", "operators": found})

    def _lines(self, session_id: int, after_id: int) -> list[dict]:
        session = ChatSession.objects.get(pk=session_id)
        return selectors.session_lines(session, after_id=after_id, internal=True)

    async def presence(self, content):
        try:
            presence = await in_thread(services.presence_set)(
                user=self.user,
                availability=content.get("availability"),
                max_chats=_as_int(content["max_chats"]) if content.get("max_chats") else None,
            )
        except services.ChatError as exc:
            await self.send_error(exc.code, exc.message)
            return
        await self.send_json(
            {
                "type": "presence",
                "availability": presence.availability,
                "max_chats": presence.max_chats,
            }
        )

    async def transfer(self, session_id: int, content):
        target = content.get("to")

        def run():
            if target == "line2":
                return services.chat_transfer(
                    session_id=session_id,
                    actor=self.user,
                    to_second_line=True,
                    note=str(content.get("note") or "")[:2000],
                )
            to_user = selectors.staff_user(_as_int(target))
            return services.chat_transfer(session_id=session_id, actor=self.user, to_user=to_user)

        try:
            await in_thread(run)()
        except services.ChatError as exc:
            await self.send_error(exc.code, exc.message, session=session_id)
        except ValidationError as exc:
            # The escalation note is missing: the console shows it at its note field.
            note = getattr(exc, "error_dict", {}).get("note")
            code = "note_required" if note else "invalid"
            await self.send_error(code, " ".join(exc.messages), session=session_id)

    # --- group events -------------------------------------------------------------

    async def console_queue_changed(self, event):
        self.queue_changed()

    async def show_queue(self, line: dict) -> None:
        """The listed chats' order, and the summaries of those this console lacks.

        The whole list went to every console on every change: at 250 waiting, 100
        summaries (~40 kB) to each of 100 consoles twice a second, which the consoles
        (and the bench's client) spent their time parsing. Consoles that hold the same
        chats get the same frame, encoded once per read.
        """
        view = self._line_view(line)
        order = view["order"]
        added = tuple(pk for pk in order if pk not in self.shown_waiting)
        frames = view.setdefault("frames", {})
        if added not in frames:
            frame = {
                "type": "queue",
                "order": order,
                "added": [summary for summary in view["waiting"] if summary["id"] in added],
                "count": view["count"],
            }
            frames[added] = await self.encode_json(frame)
        self.shown_waiting = set(order)
        await self.send(text_data=frames[added])

    def _line_view(self, line: dict) -> dict:
        """The waiting line as this console may see it: its queues' chats, contacts masked
        without the right. Built once per read for all consoles with the same rights."""
        views = line.setdefault("console_views", {})
        view = views.get(self.rights.key)
        if view is None:
            rights = self.rights
            waiting = [s for s in line["waiting"] if rights.covers(s["queue_id"])][: self.LISTED]
            if rights.queue_ids is None:
                count = line["count"]
            else:
                count = sum(1 for queue_id in line["queues"] if queue_id in rights.queue_ids)
            view = views[rights.key] = {
                "waiting": [access.summary_for(rights, s) for s in waiting],
                "order": [s["id"] for s in waiting],
                "count": count,
            }
        return view

    async def console_assigned(self, event):
        chat = event["chat"]
        self.chats[chat["id"]] = chat["ticket_id"]
        await self.join(services.session_group(chat["id"]))
        await self.join(ticket_group_name(chat["ticket_id"]))
        history = await in_thread(self._lines)(chat["id"], 0)
        chat = access.summary_for(self.rights, chat)
        await self.send_json({"type": "assigned", "chat": {**chat, "lines": history}})

    async def console_released(self, event):
        session_id = event["session"]
        ticket_id = self.chats.pop(session_id, None)
        await self.leave(services.session_group(session_id))
        if ticket_id is not None and ticket_id not in self.chats.values():
            await self.leave(ticket_group_name(ticket_id))
        await self.send_json(
            {"type": "released", "session": session_id, "reason": event.get("reason", "")}
        )

    async def ticket_event(self, event):
        message = event.get("message")
        if event.get("event") != "message.new" or not message:
            return
        for session_id, ticket_id in self.chats.items():
            if ticket_id == event["ticket_id"]:
                await self.send_json(
                    {"type": "line", "session": session_id, "line": {**message, "files": []}}
                )

    async def chat_files(self, event):
        await self.send_json({"type": "line", "session": event["session"], "line": event["line"]})

    async def chat_state(self, event):
        await self.send_json({**event, "type": "state"})

    async def chat_queue_changed(self, event):
        return  # citizens' positions; consoles get console.queue.changed

    async def chat_typing(self, event):
        if event["who"] == "citizen":
            await self.send_json({"type": "typing", "session": event["session"]})

    async def chat_delivered(self, event):
        if event["by"] == "citizen":
            await self.send_json(
                {"type": "delivered", "session": event["session"], "ids": event["ids"]}
            )
