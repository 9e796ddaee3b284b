"""Production mode refuses to start without a real SECRET_KEY."""

import os
import subprocess
import sys

import pytest
from django.conf import settings


def _check(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DEBUG")}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("secret", [None, "", "short"])
def test_production_mode_refuses_a_missing_or_weak_secret_key(secret):
    overrides = {"DEBUG": "false", "ALLOWED_HOSTS": "support.example.org"}
    if secret is not None:
        overrides["SECRET_KEY"] = secret

    result = _check(overrides)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_mode_starts_with_a_real_secret_key():
    result = _check(
        {
            "DEBUG": "false",
            "ALLOWED_HOSTS": "support.example.org",
            "SECRET_KEY": "k" * 20 + "x9Qz" * 10,
        }
    )

    assert result.returncode == 0, result.stderr
