"""The web process's garbage-collection schedule (helpdesk/gc_schedule.py).

Each test runs in a fresh interpreter: freezing and thresholds are process-wide, and the
point is what `helpdesk.asgi` does to a process that imports it.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def run_python(code: str, **env: str) -> dict:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "DATABASE_URL": "sqlite:///:memory:",
        "REDIS_URL": "",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


REPORT = """
import gc, json, threading
print(json.dumps({
    "frozen": gc.get_freeze_count(),
    "threshold": gc.get_threshold(),
    "threads": [t.name for t in threading.enumerate()],
}))
"""


def test_asgi_application_freezes_start_up_heap_and_times_full_collections():
    report = run_python("import helpdesk.asgi\n" + REPORT)

    assert report["frozen"] > 10_000
    assert report["threshold"][2] == 2**31 - 1
    assert report["threads"].count("gc-full-collection") == 1


def test_zero_interval_keeps_python_defaults():
    report = run_python("import helpdesk.asgi\n" + REPORT, GC_FULL_COLLECTION_SECONDS="0")

    assert report["frozen"] == 0
    assert report["threshold"][2] == 10
    assert "gc-full-collection" not in report["threads"]


def test_second_call_starts_no_second_timer():
    report = run_python(
        "from helpdesk.gc_schedule import schedule_full_collections\n"
        "assert schedule_full_collections(60)\n"
        "assert schedule_full_collections(60)\n" + REPORT
    )

    assert report["threads"].count("gc-full-collection") == 1


def test_timer_frees_cycles_that_reached_the_oldest_generation():
    report = run_python(
        """
import gc, json, time, weakref
from helpdesk.gc_schedule import schedule_full_collections

class Node:
    pass

schedule_full_collections(1.5)
node = Node()
node.self = node
ref = weakref.ref(node)
gc.collect(1)  # survivors of a generation-1 collection move to the oldest generation
del node
for _ in range(2000):  # enough young garbage for many generation 0/1 collections
    [[] for _ in range(100)]
alive_before_timer = ref() is not None
deadline = time.monotonic() + 10
while ref() is not None and time.monotonic() < deadline:
    time.sleep(0.05)
print(json.dumps({"before": alive_before_timer, "after": ref() is not None}))
"""
    )

    assert report == {"before": True, "after": False}
