"""The files our users deploy with stay valid."""

import os
import subprocess
import sys

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


def _compose() -> dict:
    return yaml.safe_load((settings.BASE_DIR / "docker-compose.yml").read_text())


def _command(service: dict) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else command


def test_compose_publishes_only_the_reverse_proxy():
    services = _compose()["services"]

    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert services["proxy"]["image"].startswith("nginx:")


def test_compose_proxy_config_passes_websockets_and_overwrites_forwarded_for():
    services = _compose()["services"]
    mount = next(v for v in services["proxy"]["volumes"] if v.endswith(":/etc/nginx/nginx.conf:ro"))
    conf = (settings.BASE_DIR / mount.split(":")[0]).read_text()

    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf


def test_compose_proxy_access_log_leaves_out_query_strings():
    conf = (settings.BASE_DIR / "deploy" / "nginx.conf").read_text()
    log_format = conf.split("log_format", 1)[1].split(";", 1)[0]

    assert "$uri" in log_format
    for leaky in (
        "$request ",
        '$request"',
        "$request_uri",
        "$args",
        "$query_string",
        "$http_referer",
    ):
        assert leaky not in log_format, leaky
    assert "access_log /dev/stdout noquery;" in conf


def test_web_trusts_forwarded_for_only_from_the_compose_network():
    compose = _compose()
    web = compose["services"]["web"]

    assert "--proxy-headers" not in _command(web)
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert web["environment"]["TRUSTED_PROXIES"] == subnet


def test_no_server_command_trusts_proxy_headers_from_anyone():
    files = ["docker-compose.yml", "Dockerfile", "docs/deployment.md", "README.md"]
    files += [str(p.relative_to(settings.BASE_DIR)) for p in (settings.BASE_DIR / "bin").iterdir()]

    for name in files:
        lines = (settings.BASE_DIR / name).read_text().splitlines()
        commands = [line for line in lines if not line.lstrip().startswith("#")]
        assert not [line for line in commands if "--proxy-headers" in line], name


def test_production_image_defaults_to_debug_off():
    dockerfile = (settings.BASE_DIR / "Dockerfile").read_text()

    env_lines = [line for line in dockerfile.splitlines() if line.startswith("ENV ")]
    assert any("DEBUG=false" in line.split() for line in env_lines)
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    assert '"helpdesk.serve"' in cmd


def _manage_check(env_overrides: dict) -> subprocess.CompletedProcess:
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


def test_production_image_refuses_to_start_without_a_secret_key():
    dockerfile = (settings.BASE_DIR / "Dockerfile").read_text()
    image_env = dict(
        word.split("=", 1)
        for line in dockerfile.splitlines()
        if line.startswith("ENV ")
        for word in line.split()[1:]
    )

    result = _manage_check({**image_env, "ALLOWED_HOSTS": "support.example.org"})

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_trusted_proxies_that_are_not_addresses_stop_the_start():
    result = _manage_check({"TRUSTED_PROXIES": "10.0.0.0/8,proxy.example.org"})

    assert result.returncode != 0
    assert "TRUSTED_PROXIES" in result.stderr


def test_compose_gives_the_web_process_longer_than_its_shutdown_grace():
    # Docker SIGKILLs after stop_grace_period (default 10 s): the web process must have
    # ended its own drain (SHUTDOWN_GRACE_SECONDS, default 10) before that.
    web = _compose()["services"]["web"]

    assert web["stop_grace_period"] == "15s"


def test_compose_web_health_check_asks_the_readiness_probe():
    test = " ".join(_compose()["services"]["web"]["healthcheck"]["test"])

    assert "http://127.0.0.1:8000/healthz/ready" in test
