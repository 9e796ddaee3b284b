"""A small AMI server for the bridge tests: the real wire protocol (banner, `Action:
Login` answered with a `Response:` block, event blocks), scripted per connection."""

import asyncio
import threading
from contextlib import contextmanager

from telephony.ami import ami_block, ami_parse

BANNER = b"Asterisk Call Manager/5.0.1\r\n"


class FakeAmi:
    def __init__(self, *, secret: str, scripts: list[list[dict]], hold_last: bool = True):
        """`scripts[i]`: the events sent on the i-th connection after login; the
        connection is then dropped, except the last one when `hold_last`."""
        self.secret = secret
        self.scripts = scripts
        self.hold_last = hold_last
        self.logins: list[dict] = []
        self.actions: list[dict] = []
        self.server = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader, writer):
        writer.write(BANNER)
        login = ami_parse(await reader.readuntil(b"\r\n\r\n"))
        self.logins.append(login)
        if login.get("Secret") != self.secret:
            writer.write(
                ami_block(
                    Response="Error",
                    ActionID=login.get("ActionID", ""),
                    Message="Authentication failed",
                )
            )
            await writer.drain()
            writer.close()
            return
        writer.write(
            ami_block(
                Response="Success",
                ActionID=login.get("ActionID", ""),
                Message="Authentication accepted",
            )
        )
        index = len([x for x in self.logins if x.get("Secret") == self.secret]) - 1
        script = self.scripts[index] if index < len(self.scripts) else []
        for event in script:
            writer.write(ami_block(**event))
        await writer.drain()
        if self.hold_last and index >= len(self.scripts) - 1:
            try:
                while block := await reader.readuntil(b"\r\n\r\n"):
                    action = ami_parse(block)
                    self.actions.append(action)
                    writer.write(ami_block(Response="Success", ActionID=action["ActionID"]))
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
        writer.close()


@contextmanager
def fake_ami_in_thread(fake: FakeAmi):
    """The fake on its own event loop in a thread, for synchronous callers; yields the port."""
    loop = asyncio.new_event_loop()
    port = loop.run_until_complete(fake.start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
