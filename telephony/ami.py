"""The Asterisk Manager Interface (AMI): its wire format, the bridge from its call events to
CTI events (`AmiCallTracker`), and one-shot actions (Originate for click-to-call).

AMI is line-based TCP: a banner line (`Asterisk Call Manager/5.0.1`), then blocks of
`Key: Value` lines ended by an empty line, both ways. A few dozen lines of our own instead
of a client library: the bridge needs login, reading event blocks and one action, and the
one maintained asyncio client (panoramisk) would be a dependency for that much.
"""

import asyncio
import socket
from dataclasses import dataclass, field

from telephony.events import CtiEvent

ENCODING = "utf-8"
# Q.850 hangup causes as the CTI `cause` names them (Zammad's generic CTI).
CAUSES = {"16": "normalClearing", "17": "busy", "18": "noAnswer", "19": "noAnswer", "21": "cancel"}


class AmiError(Exception):
    """The manager refused us (login, action) or spoke something we cannot read."""


def ami_block(**fields: str) -> bytes:
    """One block. A value with a line break would smuggle a field (or a whole action)
    into the manager session: refused."""
    for value in fields.values():
        if "\r" in value or "\n" in value:
            raise AmiError("line break in an AMI value")
    return "".join(f"{key}: {value}\r\n" for key, value in fields.items()).encode(ENCODING) + (
        b"\r\n"
    )


def ami_parse(block: bytes) -> dict[str, str]:
    fields = {}
    for line in block.decode(ENCODING, "replace").split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    return fields


def extension_of(channel: str) -> str:
    """`PJSIP/201-00000012` → `201` (the device part of a channel name)."""
    device = channel.split("/", 1)[-1]
    return device.rsplit("-", 1)[0] if "-" in device else device


@dataclass
class _Call:
    direction: str
    from_number: str
    to_number: str
    origin_extension: str = ""
    answered: bool = False


@dataclass
class AmiCallTracker:
    """Turns AMI events into CTI events, keyed by the call's Linkedid.

    - `Newchannel` of a call's first channel (Uniqueid == Linkedid) → newCall. It is
      inbound when its dialplan context is one of `inbound_contexts`, else an operator's
      outbound call (the first channel is their phone's);
    - `DialBegin` on an inbound call → newCall again with the rung extension as `user`
      (the service takes the first operator named, so the screen pop follows);
    - `BridgeEnter` of another channel of the call (or `AgentConnect`) → answer;
    - `Hangup` of the first channel → hangup, with the Q.850 cause named.
    """

    inbound_contexts: frozenset[str]
    calls: dict[str, _Call] = field(default_factory=dict)

    def feed(self, message: dict[str, str]) -> CtiEvent | None:
        name = message.get("Event", "")
        linked = message.get("Linkedid") or message.get("Uniqueid", "")
        if not linked:
            return None
        first = message.get("Uniqueid") == linked
        if name == "Newchannel" and first:
            inbound = message.get("Context", "") in self.inbound_contexts
            call = _Call(
                direction="in" if inbound else "out",
                from_number=message.get("CallerIDNum", ""),
                to_number=message.get("Exten", ""),
                origin_extension="" if inbound else extension_of(message.get("Channel", "")),
            )
            self.calls[linked] = call
            return self._event("newCall", linked, call)
        call = self.calls.get(linked)
        if call is None:
            return None
        if name == "DialBegin" and call.direction == "in":
            rung = extension_of(message.get("DestChannel", ""))
            return self._event("newCall", linked, call, user=rung)
        if name in ("BridgeEnter", "AgentConnect") and not first and not call.answered:
            call.answered = True
            if call.direction == "in":
                answering = extension_of(message.get("Channel", ""))
                if name == "AgentConnect":
                    answering = extension_of(message.get("DestChannel", "")) or answering
            else:
                answering = call.origin_extension
            return self._event("answer", linked, call, answering=answering)
        if name == "Hangup" and first:
            del self.calls[linked]
            cause = message.get("Cause", "")
            fallback = "normalClearing" if call.answered else "cancel"
            return self._event("hangup", linked, call, cause=CAUSES.get(cause, fallback))
        return None

    @staticmethod
    def _event(kind, call_id, call, *, user="", answering="", cause="") -> CtiEvent:
        return CtiEvent(
            event=kind,
            call_id=call_id[:100],
            direction=call.direction,
            from_number=call.from_number[:100],
            to_number=call.to_number[:100],
            user=user[:100],
            answering_number=answering[:100],
            cause=cause[:32],
        )


class AmiStream:
    """An AMI connection over asyncio streams: banner, login, then event blocks."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, *, host: str, port: int, user: str, secret: str, timeout: float = 10):
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        stream = cls(reader, writer)
        banner = await asyncio.wait_for(reader.readline(), timeout)
        if not banner.startswith(b"Asterisk Call Manager"):
            writer.close()
            raise AmiError(f"not an AMI server: {banner[:60]!r}")
        writer.write(ami_block(Action="Login", Username=user, Secret=secret, ActionID="login"))
        await writer.drain()
        while True:
            reply = await asyncio.wait_for(stream.read(), timeout)
            if reply.get("ActionID") == "login" or "Response" in reply:
                break
        if reply.get("Response") != "Success":
            writer.close()
            raise AmiError(f"login refused: {reply.get('Message', '')}")
        return stream

    async def read(self) -> dict[str, str]:
        """The next block; ConnectionError when the manager closed the connection."""
        try:
            block = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            raise ConnectionError("AMI connection closed") from exc
        return ami_parse(block)

    def close(self) -> None:
        self.writer.close()


def ami_originate(
    *,
    host: str,
    port: int,
    user: str,
    secret: str,
    channel: str,
    context: str,
    number: str,
    caller_id: str,
    timeout: float = 5,
) -> None:
    """One AMI session: log in, Originate (the operator's phone rings first, then the
    dialplan `context` dials `number`), log off. AmiError when the manager refuses."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        stream = sock.makefile("rb")
        if not stream.readline().startswith(b"Asterisk Call Manager"):
            raise AmiError("not an AMI server")

        def ask(**fields: str) -> dict[str, str]:
            sock.sendall(ami_block(**fields))
            while True:
                lines = []
                while (line := stream.readline()) not in (b"\r\n", b""):
                    lines.append(line)
                if not lines:
                    raise AmiError("AMI connection closed")
                reply = ami_parse(b"".join(lines))
                if reply.get("ActionID") == fields["ActionID"]:
                    return reply

        if ask(Action="Login", Username=user, Secret=secret, ActionID="l")["Response"] != "Success":
            raise AmiError("login refused")
        reply = ask(
            Action="Originate",
            ActionID="o",
            Channel=channel,
            Context=context,
            Exten=number,
            Priority="1",
            CallerID=caller_id,
            Async="true",
            Timeout="30000",
        )
        if reply.get("Response") != "Success":
            raise AmiError(f"originate refused: {reply.get('Message', '')}")
        sock.sendall(ami_block(Action="Logoff", ActionID="x"))
