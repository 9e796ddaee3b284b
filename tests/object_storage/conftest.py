import itertools

import pytest

from tests.object_store import moto_server, new_bucket

_buckets = itertools.count(1)


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory):
    with moto_server(tmp_path_factory.mktemp("moto") / "moto.log") as url:
        yield url


@pytest.fixture
def bucket(s3_endpoint, settings):
    """A fresh private bucket named by the settings; files still go to the local disk."""
    store = new_bucket(s3_endpoint, f"helpdesk-test-{next(_buckets)}")
    settings.MEDIA_S3_OPTIONS = store.options()
    return store


@pytest.fixture
def object_store(s3_endpoint, settings):
    """A fresh private bucket on the S3 server, made the default storage."""
    store = new_bucket(s3_endpoint, f"helpdesk-test-{next(_buckets)}")
    settings.MEDIA_S3_OPTIONS = store.options()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "helpdesk.object_storage.ObjectStorage",
            "OPTIONS": store.options(),
        },
    }
    return store
