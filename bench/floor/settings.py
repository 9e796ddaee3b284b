"""Settings for bench/http_floor.py: the project's settings with a two-view URLconf."""

from helpdesk.settings import *  # noqa: F403

ROOT_URLCONF = "floor.urls"
