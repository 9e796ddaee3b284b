"""`python -m helpdesk.serve [daphne options] helpdesk.asgi:application`: the web process.

Daphne as it is, with two differences: its access log leaves out query strings (they
carry status and chat tokens), and `--proxy-headers` is refused. Daphne would take the
client's address from the left-most X-Forwarded-For, which any client writes; the
address is worked out from TRUSTED_PROXIES instead (`helpdesk/client_address.py`).
"""

import sys

from daphne.cli import CommandLineInterface
from daphne.server import Server

from helpdesk.logfilters import path_without_query

REFUSED_OPTIONS = ("--proxy-headers", "--proxy-headers-host", "--proxy-headers-port")


class QuerylessLogServer(Server):
    def log_action(self, protocol, action, details):
        if isinstance(details.get("path"), str):
            details = {**details, "path": path_without_query(details["path"])}
        super().log_action(protocol, action, details)


class HelpdeskCommandLineInterface(CommandLineInterface):
    server_class = QuerylessLogServer

    def run(self, args):
        refused = [arg for arg in args if arg.split("=", 1)[0] in REFUSED_OPTIONS]
        if refused:
            self.parser.error(
                f"{refused[0]} trusts X-Forwarded-For from anyone; set TRUSTED_PROXIES instead"
            )
        super().run(args)


def main(argv: list[str] | None = None) -> None:
    HelpdeskCommandLineInterface().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
