"""The files our users deploy with stay valid."""

import yaml
from django.conf import settings


def test_compose_file_describes_the_production_stack():
    compose = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())

    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(services)
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert {"pgdata", "redisdata", "media"} <= set(compose["volumes"])
    assert services["web"]["environment"]["DB_POOL"] == "true"


def test_compose_runs_exactly_one_beat():
    compose = yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())

    beats = [s for s in compose["services"].values() if "beat" in " ".join(s.get("command", []))]
    assert len(beats) == 1
