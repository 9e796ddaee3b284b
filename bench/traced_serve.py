#!/usr/bin/env python
"""`python -m helpdesk.serve` with tracemalloc on, for the soak's memory question (is the
web processes' growth a leak or warm-up?). Bench only: production never imports it.

    python bench/traced_serve.py SNAPSHOT_DIR SECONDS [helpdesk.serve arguments …]

Starts tracing SECONDS after start-up, then writes a tracemalloc snapshot to
SNAPSHOT_DIR/<pid>-<n>.snap every SECONDS (each after a full garbage collection, whose yield goes to
SNAPSHOT_DIR/<pid>.gc), with 10 frames per allocation; `bench/soak.py --trace-memory`
starts the web processes through it and compares the snapshots at the end.
"""

import gc
import os
import sys
import threading
import tracemalloc
from pathlib import Path


def main() -> None:
    folder, every, rest = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3:]
    folder.mkdir(parents=True, exist_ok=True)

    def dump() -> None:
        # Tracing from the start made start-up several times slower (a minute and more on
        # the loaded machine); what was allocated at start-up is not what we are after.
        threading.Event().wait(every)
        tracemalloc.start(10)
        n = 0
        while True:
            threading.Event().wait(every)
            # Garbage still waiting for the scheduled full collection (helpdesk/gc_schedule.py)
            # is not what we are after: collect it, and note how much there was.
            before = tracemalloc.get_traced_memory()[0]
            freed = gc.collect()
            after = tracemalloc.get_traced_memory()[0]
            with open(folder / f"{os.getpid()}.gc", "a") as log:
                log.write(f"{n} {freed} {before} {after}\n")
            tracemalloc.take_snapshot().dump(str(folder / f"{os.getpid()}-{n:03d}.snap"))
            n += 1

    threading.Thread(target=dump, name="tracemalloc-dump", daemon=True).start()
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from helpdesk.serve import main as serve

    serve(rest)


if __name__ == "__main__":
    main()
