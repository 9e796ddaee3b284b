"""docker-compose.multinode.yml: two web nodes behind nginx, two workers, one beat,
PostgreSQL, Redis and MinIO; the nodes share nothing else."""

import re

import yaml
from django.conf import settings

APP_NODES = ("web-1", "web-2", "worker-1", "worker-2", "beat", "migrate")


def _compose() -> dict:
    return yaml.safe_load((settings.BASE_DIR / "docker-compose.multinode.yml").read_text())


def _command(service: dict) -> str:
    command = service.get("command", [])
    return command if isinstance(command, str) else " ".join(command)


def _nginx_conf() -> str:
    proxy = _compose()["services"]["proxy"]
    mount = next(v for v in proxy["volumes"] if v.endswith(":/etc/nginx/nginx.conf:ro"))
    return (settings.BASE_DIR / mount.split(":")[0].removeprefix("./")).read_text()


def test_two_web_nodes_two_workers_and_exactly_one_beat():
    services = _compose()["services"]
    web = [name for name, s in services.items() if "helpdesk.serve" in _command(s)]
    workers = [name for name, s in services.items() if "worker" in _command(s).split()]
    beats = [name for name, s in services.items() if "beat" in _command(s).split()]
    assert sorted(web) == ["web-1", "web-2"]
    assert sorted(workers) == ["worker-1", "worker-2"]
    assert beats == ["beat"]
    assert {"postgres", "redis", "minio", "proxy"} <= set(services)


def test_only_the_proxy_is_published_and_the_object_store_is_not():
    services = _compose()["services"]
    assert {name for name, s in services.items() if s.get("ports")} == {"proxy"}


def test_app_nodes_keep_no_files_of_their_own_and_share_the_bucket_and_redis():
    services = _compose()["services"]
    for name in APP_NODES:
        service = services[name]
        assert not service.get("volumes"), name
        env = service["environment"]
        assert env["AWS_STORAGE_BUCKET_NAME"], name
        assert env["AWS_S3_ENDPOINT_URL"] == "http://minio:9000", name
        assert env["REDIS_URL"].startswith("redis://redis:"), name
        assert env["DATABASE_URL"].startswith("postgres://"), name


def test_web_nodes_start_after_the_migrations_and_the_bucket():
    services = _compose()["services"]
    for name in ("web-1", "web-2"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["minio-init"]["condition"] == "service_completed_successfully"
        assert "healthz/ready" in " ".join(services[name]["healthcheck"]["test"])


def test_the_bucket_is_created_private():
    command = _command(_compose()["services"]["minio-init"])
    assert "mc mb --ignore-existing" in command
    assert "mc anonymous set none" in command


def test_nginx_balances_every_web_node_and_passes_websockets():
    conf = _nginx_conf()
    upstream = re.search(r"upstream helpdesk_web \{(.*?)\}", conf, re.S).group(1)
    assert re.findall(r"server (web-\d):8000", upstream) == ["web-1", "web-2"]
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert "proxy_set_header Connection $connection_upgrade;" in conf
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    assert "non_idempotent" not in conf


def test_nginx_of_several_nodes_logs_no_query_strings():
    log_format = _nginx_conf().split("log_format", 1)[1].split(";", 1)[0]
    assert "$uri" in log_format
    assert "$request_uri" not in log_format and "$http_referer" not in log_format
