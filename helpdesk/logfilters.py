"""Keep query strings out of access logs.

Status and chat links carry their secret token in the query string (`?t=…`): an access
log is read by more people, and kept longer, than the ticket it would open.
"""

import logging


def path_without_query(path: str) -> str:
    return path.split("?", 1)[0]


class DropQueryString(logging.Filter):
    """For loggers whose records carry a `path` argument (daphne's runserver log)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict) and isinstance(record.args.get("path"), str):
            record.args = {**record.args, "path": path_without_query(record.args["path"])}
        return True
