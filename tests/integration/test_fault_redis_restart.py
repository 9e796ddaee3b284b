"""Redis restarted during a chat conversation (issue 22, item 2): the sockets come back,
no line is lost or stored twice, and the operator console's waiting list is right
afterwards.

Two real daphne processes (the citizen on one, the operator on the other) share the
test's own `redis-server` (channel layer, cache, broker), which the test stops and starts
again empty, as a restart without persistence leaves it. The clients behave as the widget
and the console do: lines are numbered and sent again after a reconnect until the server
says they are stored, and a closed socket reconnects and reloads what it missed.
"""

import asyncio
import contextlib
import json
import shutil
import subprocess
import time
from contextlib import contextmanager

import httpx
import pytest
from django.conf import settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chat.models import ChatSession
from tests.chat.conftest import online
from tests.chat.live import _port_free, daphne_processes
from tests.factories import CHAT_OPERATOR, UserFactory
from tickets.models import Message

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REDIS_PORT = 8756
WEB_PORTS = (8754, 8755)
WAIT = 20  # seconds for something that takes one or two
# The widget pings, and the console beats, every 25 s; these clients every 2 s.
HEARTBEAT = 2


class PrivateRedis:
    """A `redis-server` of the test's own, without persistence."""

    def __init__(self, port: int):
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + WAIT
        while _port_free(self.port):
            assert self.process.poll() is None, "redis-server exited"
            assert time.monotonic() < deadline, "redis-server did not open its port"
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=WAIT)


@contextmanager
def private_redis():
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server (apt-get install redis-server)")
    if not _port_free(REDIS_PORT):
        pytest.skip(f"port {REDIS_PORT} is in use")
    redis = PrivateRedis(REDIS_PORT)
    redis.start()
    try:
        yield redis
    finally:
        if redis.process.poll() is None:
            redis.stop()


class Peer:
    """One end of a chat, as the widget (citizen) or the console (operator) behaves."""

    def __init__(self, url: str, *, token: str = "", cookie: str = "", session: int = 0):
        self.url = url.replace("http://", "ws://")
        self.token, self.cookie, self.session = token, cookie, session
        self.ws = None
        self.seq = 0
        self.pending: dict[int, str] = {}  # said, not yet stored
        self.seen: list[tuple[int, str]] = []  # (message id, text) of lines received
        self.waiting: list[int] = []  # console: the waiting line's chat ids, in order
        self.reconnects = 0
        self.since = 0  # newest line id at the previous heartbeat

    @property
    def is_console(self) -> bool:
        return bool(self.cookie)

    async def open(self) -> None:
        """Connect, retrying while the server refuses (Redis away), and catch up."""
        deadline = time.monotonic() + WAIT
        while True:
            try:
                await self._open_once()
                return
            except (OSError, ConnectionClosed, InvalidStatus, TimeoutError):
                assert time.monotonic() < deadline, "the socket never came back"
                await asyncio.sleep(0.5)

    async def _open_once(self) -> None:
        if self.is_console:
            self.ws = await connect(
                f"{self.url}/ws/chat/operator/",
                origin=self.url.replace("ws://", "http://"),
                additional_headers={"Cookie": self.cookie},
            )
            init = await self._frame("init")
            self.waiting = [chat["id"] for chat in init["waiting"]]
            chat = next(c for c in init["chats"] if c["id"] == self.session)
            self._catch_up(chat["lines"], acked=chat["operator_seq"])
        else:
            self.ws = await connect(
                f"{self.url}/ws/chat/", origin=self.url.replace("ws://", "http://")
            )
            last_id = max((line_id for line_id, _ in self.seen), default=0)
            await self.ws.send(
                json.dumps({"type": "hello", "token": self.token, "last_id": last_id})
            )
            welcome = await self._frame("welcome")
            self._catch_up(welcome["lines"], acked=welcome["acked"])
        for seq, text in sorted(self.pending.items()):
            await self._send_line(seq, text)
        self.since = self._newest()

    def _newest(self) -> int:
        return max((line_id for line_id, _ in self.seen), default=0)

    async def _heartbeat(self) -> None:
        """As the widget's ping and the console's heartbeat: ask for the lines since the
        previous one."""
        if self.is_console:
            frame = {"type": "history", "session": self.session, "after_id": self.since}
        else:
            frame = {"type": "ping", "since": self.since}
        await self.ws.send(json.dumps(frame))
        self.since = self._newest()

    def _catch_up(self, lines: list[dict], *, acked: int) -> None:
        if acked:
            self.pending = {seq: text for seq, text in self.pending.items() if seq > acked}
        known = {line_id for line_id, _ in self.seen}
        self.seen += [(line["id"], line["text"]) for line in lines if line["id"] not in known]

    async def _frame(self, kind: str) -> dict:
        while True:
            frame = json.loads(await asyncio.wait_for(self.ws.recv(), WAIT))
            if frame.get("type") == kind:
                return frame

    async def _send_line(self, seq: int, text: str) -> None:
        frame = {"type": "message", "seq": seq, "text": text}
        if self.is_console:
            frame["session"] = self.session
        await self.ws.send(json.dumps(frame))

    async def say(self, text: str) -> None:
        """Send a line and wait until the server has stored it."""
        self.seq += 1
        seq = self.seq
        self.pending[seq] = text
        with contextlib.suppress(ConnectionClosed):  # pump() reconnects and sends it again
            await self._send_line(seq, text)
        await self.pump(lambda: seq not in self.pending)

    async def pump(self, done, timeout: float = WAIT) -> None:
        """Handle frames (reconnecting when the socket closes) until `done()`."""
        deadline = time.monotonic() + timeout
        while not done():
            left = deadline - time.monotonic()
            assert left > 0, f"timed out; pending {self.pending}, seen {self.seen}"
            try:
                frame = json.loads(await asyncio.wait_for(self.ws.recv(), min(left, HEARTBEAT)))
            except ConnectionClosed:
                self.reconnects += 1
                await self.open()
                continue
            except TimeoutError:
                with contextlib.suppress(ConnectionClosed):
                    await self._heartbeat()
                continue
            kind = frame.get("type")
            if kind == "ack":
                self.pending.pop(frame["seq"], None)
            elif kind == "error" and frame.get("seq") in self.pending:
                # Not stored (the server could not reach something): send it again.
                await asyncio.sleep(0.5)
                await self._send_line(frame["seq"], self.pending[frame["seq"]])
            elif kind == "line" and frame.get("session", self.session) == self.session:
                self._catch_up([frame["line"]], acked=0)
            elif kind == "history" and frame["session"] == self.session:
                self._catch_up(frame["lines"], acked=0)
            elif kind == "queue":
                self.waiting = frame["order"]

    async def hears(self, text: str) -> None:
        await self.pump(lambda: text in self.texts())

    def texts(self) -> list[str]:
        return [text for _, text in self.seen]

    async def close(self) -> None:
        await self.ws.close()


def _session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def _start_chat(url: str, queue_id: int, name: str, text: str) -> dict:
    """Start a chat as the widget's form does, pressing again until the server answers."""
    deadline = time.monotonic() + WAIT
    async with httpx.AsyncClient(timeout=10) as client:
        while True:
            try:
                response = await client.post(
                    f"{url}/chat/start/",
                    data={
                        "full_name": name,
                        "email": f"{name.lower()}@example.com",
                        "queue": str(queue_id),
                        "text": text,
                    },
                )
                if response.status_code == 200:
                    return response.json()
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "could not start a chat"
            await asyncio.sleep(0.5)


@pytest.mark.parametrize("layer", ["pubsub", "core"])
def test_redis_restart_during_a_chat_loses_and_duplicates_no_line(queue, tmp_path, layer):
    operator = UserFactory(username="op-redis", first_name="Анна", permissions=CHAT_OPERATOR)
    online(operator, max_chats=1)
    cookie = _session_cookie(operator)

    with (
        private_redis() as redis,
        daphne_processes(
            WEB_PORTS,
            media_root=tmp_path / "media",
            extra_env={"REDIS_URL": redis.url, "CHAT_ROUTING": "auto", "CHANNEL_LAYER": layer},
        ) as (process_a, process_b),
    ):

        async def scenario():
            talking = await _start_chat(process_a, queue.pk, "Maria", "Не приходит СМС-код")
            waiting = [await _start_chat(process_a, queue.pk, "Ivan", "Вопрос Ивана")]
            citizen = Peer(process_a, token=talking["token"])
            console = Peer(process_b, cookie=cookie, session=talking["session"])
            # The same chat in a second tab on the other process, silent throughout.
            tab = Peer(process_b, token=talking["token"])
            await console.open()
            await citizen.open()
            await tab.open()

            await citizen.say("До перезапуска: вопрос")
            await console.hears("До перезапуска: вопрос")
            await console.say("До перезапуска: ответ")
            await citizen.hears("До перезапуска: ответ")

            redis.stop()
            # Said while Redis is away: stored or refused, never lost.
            said_during = [citizen.say("Во время: вопрос"), console.say("Во время: ответ")]
            tasks = [asyncio.ensure_future(call) for call in said_during]
            await asyncio.sleep(2)
            waiting.append(await _start_during_outage(process_a, queue.pk, redis))
            await asyncio.gather(*tasks)

            await citizen.say("После: вопрос")
            await console.hears("После: вопрос")
            await console.say("После: ответ")
            await citizen.hears("После: ответ")
            await citizen.hears("Во время: ответ")
            await console.hears("Во время: вопрос")
            await tab.pump(lambda: {"Во время: ответ", "После: ответ"} <= set(tab.texts()))

            # A chat started now shows up in the console's waiting line, after the others.
            waiting.append(await _start_chat(process_a, queue.pk, "Olga", "Вопрос Ольги"))
            expected = [chat["session"] for chat in waiting]
            await console.pump(lambda: console.waiting == expected)
            fresh = Peer(process_b, cookie=cookie, session=talking["session"])
            await fresh.open()
            for peer in (citizen, tab, console, fresh):
                await peer.close()
            return talking, expected, fresh.waiting, (citizen, tab, console)

        talking, expected, fresh_waiting, peers = asyncio.run(scenario())

    session = ChatSession.objects.get(pk=talking["session"])
    stored = list(
        Message.objects.filter(ticket=session.ticket).order_by("id").values_list("text", flat=True)
    )
    before = ["Не приходит СМС-код", "До перезапуска: вопрос", "До перезапуска: ответ"]
    after = ["После: вопрос", "После: ответ"]
    assert stored[:3] == before and stored[-2:] == after
    assert sorted(stored[3:-2]) == ["Во время: вопрос", "Во время: ответ"]
    # Every line of the other side reached every socket, once (pushed, or reloaded).
    citizen, tab, console = peers
    answers = {"До перезапуска: ответ", "Во время: ответ", "После: ответ"}
    questions = {"До перезапуска: вопрос", "Во время: вопрос", "После: вопрос"}
    for peer, heard in ((citizen, answers), (tab, answers), (console, questions)):
        assert sorted(peer.texts()) == sorted(set(peer.texts()))
        assert set(peer.texts()) >= heard
    assert fresh_waiting == expected
    assert (
        list(
            ChatSession.objects.filter(status=ChatSession.Status.WAITING)
            .order_by("started_at", "id")
            .values_list("pk", flat=True)
        )
        == expected
    )


async def _start_during_outage(url: str, queue_id: int, redis: PrivateRedis) -> dict:
    """A citizen presses "start" while Redis is down, then again after it is back."""
    async with httpx.AsyncClient(timeout=10) as client:
        try:
            refused = await client.post(
                f"{url}/chat/start/",
                data={
                    "full_name": "Petr",
                    "email": "petr@example.com",
                    "queue": str(queue_id),
                    "text": "Вопрос Петра",
                },
            )
        except httpx.HTTPError:
            refused = None
    redis.start()
    if refused is not None and refused.status_code == 200:
        return refused.json()
    return await _start_chat(url, queue_id, "Petr", "Вопрос Петра")
