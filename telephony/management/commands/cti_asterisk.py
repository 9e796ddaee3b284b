"""`manage.py cti_asterisk`: the Asterisk bridge (AMI events → the call log, screen pops
and call-backs, like the CTI webhook). Runs until stopped (SIGINT/SIGTERM)."""

import asyncio
import signal

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from telephony.bridge import ami_bridge_run
from telephony.events import CtiEvent
from telephony.services import cti_event_record


async def _record(event: CtiEvent) -> None:
    await database_sync_to_async(cti_event_record)(event=event)


class Command(BaseCommand):
    help = "Bridge Asterisk's manager interface (AMI) to the call log."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=settings.AMI_HOST)
        parser.add_argument("--port", type=int, default=settings.AMI_PORT)
        parser.add_argument("--user", default=settings.AMI_USER)
        parser.add_argument(
            "--secret",
            default=settings.AMI_SECRET,
            help="better from AMI_SECRET: a command line is visible to every local user",
        )
        parser.add_argument(
            "--inbound-context",
            action="append",
            default=None,
            help="context of calls from outside (repeatable; default AMI_INBOUND_CONTEXTS)",
        )

    def handle(self, *args, **options):
        if not (options["host"] and options["user"] and options["secret"]):
            raise CommandError("--host, --user and --secret (or AMI_HOST/AMI_USER/AMI_SECRET)")
        contexts = frozenset(options["inbound_context"] or settings.AMI_INBOUND_CONTEXTS)
        asyncio.run(self._run(options, contexts))

    async def _run(self, options, contexts) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await ami_bridge_run(
            host=options["host"],
            port=options["port"],
            user=options["user"],
            secret=options["secret"],
            inbound_contexts=contexts,
            handle=_record,
            stop=stop,
        )
