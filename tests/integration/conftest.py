"""Fixtures of the integration tests (real web processes)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings


@pytest.fixture(scope="session")
def static_root(tmp_path_factory) -> Path:
    """Production mode serves static files from a collectstatic manifest."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DEBUG": "false", "SECRET_KEY": "x" * 50, "STATIC_ROOT": str(root)},
        check=True,
        timeout=300,
    )
    return root
