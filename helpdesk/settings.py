"""Settings for the help desk: one module, everything from the environment.

Embedded defaults (no servers): SQLite, in-memory channel layer, a file-system Celery
broker, mail written to files. ``DATABASE_URL`` / ``REDIS_URL`` switch to PostgreSQL /
Redis. ``DEBUG=false`` is production mode: ``SECRET_KEY`` must then be set.
"""

import ipaddress
import json
import os
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=True)
if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-key-change-me-0123456789abcdef")
else:
    # Production secrets have no default: fail loudly when unset, empty or short.
    SECRET_KEY = env("SECRET_KEY", default="")
    if len(SECRET_KEY) < 32:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set to a random string of at least 32 characters when DEBUG=false"
        )
ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "channels",
    "anymail",
    "notifications",
    "knowledge_base",
    "tickets",
    "chat",
    "telephony",
    "audit",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "axes",
    "staffauth",
    "webhooks",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "api",
]

MIDDLEWARE = [
    # First: /healthz/live and /healthz/ready answer plain-HTTP probes on any host,
    # before the HTTPS redirect, the host check and the session (helpdesk/health.py).
    "helpdesk.health.HealthProbeMiddleware",
    # Request counts and latencies for /metrics (helpdesk/metrics.py).
    "helpdesk.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # After the locale (its 400 is in the caller's language): NUL in an API query string.
    "api.middleware.ApiQueryCheckMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.context.AuditRequestMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "staffauth.middleware.StaffSessionMiddleware",
    "staffauth.middleware.StaffMFAMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a sign-in refused for a locked-out account or address into the 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
WSGI_APPLICATION = "helpdesk.wsgi.application"
ASGI_APPLICATION = "helpdesk.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
SILENCED_SYSTEM_CHECKS: list[str] = []
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # Covering indexes (INCLUDE) are for PostgreSQL; SQLite builds them without the extras.
    SILENCED_SYSTEM_CHECKS.append("models.W040")
    # WAL + a busy timeout let web, worker and beat share the embedded database.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
    DATABASES["default"]["TEST"] = {"NAME": env("TEST_SQLITE_NAME", default=None)}
elif env.bool("DB_POOL", default=False):
    # One psycopg pool per process instead of one persistent connection per thread
    # (HTTP_THREADS + ASGI_THREADS threads per web process may each hold one).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=2),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=10),
        "timeout": env.int("DB_POOL_TIMEOUT", default=10),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Threads per web process that run HTTP requests (helpdesk/asgi.py); each keeps its
# database connection for CONN_MAX_AGE seconds.
HTTP_THREADS = env.int("HTTP_THREADS", default=10)
# Web processes freeze their start-up heap and run CPython's full garbage collection on
# this timer instead of whenever its counters say so (helpdesk/gc_schedule.py); 0 = off.
GC_FULL_COLLECTION_SECONDS = env.float("GC_FULL_COLLECTION_SECONDS", default=300)
# On SIGTERM a web process (helpdesk/serve.py) stops accepting, lets running requests
# finish for up to this long, then exits whatever its threads are doing.
SHUTDOWN_GRACE_SECONDS = env.float("SHUTDOWN_GRACE_SECONDS", default=10)

# --- Redis: cache, Celery broker, channel layer ----------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 defaults that break channels-redis under real use: reads time
            # out after 5 s, the same as its 5 s blocking pop (idle consumers crash with
            # TimeoutError), and a pool holds at most 100 connections (a burst of
            # sockets joining groups fails with MaxConnectionsError).
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 15,
                        "max_connections": env.int("CHANNEL_LAYER_MAX_CONNECTIONS", default=1000),
                    }
                ],
                # Messages for all the sockets of one process share one Redis key:
                # its capacity must cover a burst for hundreds of sockets, or
                # group_send drops lines silently.
                "capacity": env.int("CHANNEL_LAYER_CAPACITY", default=20000),
                "expiry": 60,
            },
        }
    }
    if env("CHANNEL_LAYER", default="pubsub") == "pubsub":
        # Redis pub/sub: a line reaches the other process pushed, not fetched with four
        # round trips per message under one lock per process: chat round trip p99
        # 176 ms against 1.1 s with the list-based layer (bench/README.md, chat).
        # Both deliver at most once; a socket that reconnects reloads missed lines
        # from the database. CHANNEL_LAYER=core selects the list-based layer.
        CHANNEL_LAYERS["default"]["BACKEND"] = "channels_redis.pubsub.RedisPubSubChannelLayer"
        CHANNEL_LAYERS["default"]["CONFIG"].pop("capacity")
        CHANNEL_LAYERS["default"]["CONFIG"].pop("expiry")
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Celery -----------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = Path(env("CELERY_BROKER_FOLDER", default=str(VAR_DIR / "celery-broker")))
    _broker_dir.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # The file-system transport polls its folder; the default 1 s caps the embedded
        # worker at about one task per second per process.
        "polling_interval": 0.1,
    }
else:
    # A dead broker must not hang a web request: fail fast, the outbox sweeper retries.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 1,
        "visibility_timeout": 3600,
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- E-mail -----------------------------------------------------------------------
ANYMAIL_ESP = env("ANYMAIL_ESP", default="")
# Every ANYMAIL_* variable becomes a key of ANYMAIL (ANYMAIL_MAILGUN_API_KEY → MAILGUN_API_KEY);
# a value written as a JSON object (e.g. AMAZON_SES_CLIENT_PARAMS) is decoded. See docs/email.md.
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): json.loads(value) if value.lstrip().startswith("{") else value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_") and key != "ANYMAIL_ESP"
}
if ANYMAIL_ESP:
    # Any anymail ESP by configuration: ANYMAIL_ESP=mailgun + ANYMAIL_MAILGUN_API_KEY=...
    EMAIL_BACKEND = f"anymail.backends.{ANYMAIL_ESP}.EmailBackend"
else:
    # smtp://user:pass@host:25, smtp+tls://…:587, smtp+ssl://…:465, consolemail://,
    # filemail:///abs/path, memorymail://, dummymail://
    _email = env.email_url_config(env("EMAIL_URL", default="") or f"filemail://{VAR_DIR / 'mail'}")
    vars().update(_email)
    if _email["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
        # django-environ drops the leading "/" of filemail:///abs/path.
        EMAIL_FILE_PATH = "/" + (_email.get("EMAIL_FILE_PATH") or str(VAR_DIR / "mail")).lstrip("/")
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Служба поддержки <support@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
# Domain used in the Message-IDs we generate, so replies can be recognised.
EMAIL_MESSAGE_ID_DOMAIN = env("EMAIL_MESSAGE_ID_DOMAIN", default="helpdesk.local")
# Automatic mails (auto-replies, notices) per recipient per hour: no mail floods.
AUTO_REPLY_HOURLY_CAP = env.int("AUTO_REPLY_HOURLY_CAP", default=10)
# Days automatic mail to an address is held back after a delivery report that quotes
# our Message-ID says a mail to it failed for good (0: never held back).
EMAIL_BOUNCE_SUPPRESS_DAYS = env.int("EMAIL_BOUNCE_SUPPRESS_DAYS", default=30)
# Inbound e-mail: a bigger message is kept in quarantine; a bigger attachment is left
# out of the ticket with a note (the raw message keeps it).
EMAIL_MAX_MESSAGE_BYTES = env.int("EMAIL_MAX_MESSAGE_BYTES", default=25 * 1024 * 1024)
EMAIL_MAX_ATTACHMENT_BYTES = env.int("EMAIL_MAX_ATTACHMENT_BYTES", default=10 * 1024 * 1024)
# IMAP polling: which messages to fetch from each mailbox folder (e.g. "UNSEEN").
IMAP_SEARCH = env("IMAP_SEARCH", default="UNDELETED")
IMAP_TIMEOUT = env.int("IMAP_TIMEOUT", default=60)
# Mailboxes without TLS (security "none") send the password in clear: refused unless this
# is true (a local test server).
IMAP_ALLOW_INSECURE = env.bool("IMAP_ALLOW_INSECURE", default=False)
# Workers that poll one mailbox at once, each over its own connection and taking its
# share of the messages (match it to the Celery worker concurrency).
IMAP_WORKERS = env.int("IMAP_WORKERS", default=1)
# More addresses that are ours (besides DEFAULT_FROM_EMAIL, SERVER_EMAIL and the queues'
# addresses): never mailed automatically.
OWN_EMAIL_ADDRESSES = env.list("OWN_EMAIL_ADDRESSES", default=[])
# Outbox: a pending row whose task has not run after this many seconds is published
# again by the sweeper; a row left "sending" longer than OUTBOX_SENDING_TIMEOUT belongs
# to a dead worker (must exceed the send task's hard time limit, 150 s).
OUTBOX_REQUEUE_AFTER = env.int("OUTBOX_REQUEUE_AFTER", default=60)
OUTBOX_SENDING_TIMEOUT = env.int("OUTBOX_SENDING_TIMEOUT", default=300)

# --- Tickets and SLA --------------------------------------------------------------
TICKET_PREFIX = env("TICKET_PREFIX", default="SP")
SLA_FIRST_RESPONSE_HOURS = env.int("SLA_FIRST_RESPONSE_HOURS", default=24)
SLA_REMINDER_PERCENT = env.int("SLA_REMINDER_PERCENT", default=75)
# Seed 003 «обязательный срок исполнения»: working hours a department (second line) has for
# an escalated appeal when the department sets none of its own (admin: department deadlines).
DEPARTMENT_DEADLINE_HOURS = env.int("DEPARTMENT_DEADLINE_HOURS", default=40)
# The queue the first `migrate` creates when there is none, so a fresh install takes
# appeals and mail at once (the admin renames it or adds more): its name and its inbound
# address (by default the address part of DEFAULT_FROM_EMAIL).
DEFAULT_QUEUE_NAME = env("DEFAULT_QUEUE_NAME", default="Служба поддержки")
DEFAULT_QUEUE_EMAIL = env("DEFAULT_QUEUE_EMAIL", default=parseaddr(DEFAULT_FROM_EMAIL)[1])
# When operators are on the line, as the public footer states it: ISO weekdays and a
# time span in TIME_ZONE ("1-5 09:00-18:00"); empty: round the clock.
SUPPORT_HOURS = env("SUPPORT_HOURS", default="1-5 09:00-18:00")
# Supervisor dashboard: the SLA compliance target line (%) and how long figures are cached.
DASHBOARD_SLA_TARGET_PERCENT = env.int("DASHBOARD_SLA_TARGET_PERCENT", default=95)
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=30)
AUTO_CLOSE_DAYS = env.int("AUTO_CLOSE_DAYS", default=7)
AUTO_ASSIGN = env.bool("AUTO_ASSIGN", default=False)
# Appeals accepted per client IP per hour on the public form; 0 disables the limit.
APPEAL_RATE_LIMIT = env.int("APPEAL_RATE_LIMIT", default=20)
# Status look-ups (number + e-mail/phone) per client IP per hour.
STATUS_LOOKUP_RATE_LIMIT = env.int("STATUS_LOOKUP_RATE_LIMIT", default=30)
# Attempts per hour that name one ticket number, and that give one e-mail or phone, at
# the doors where a number and a contact are checked together (status look-up, the
# form's "earlier number", a chat started with a number), from whatever addresses:
# guessing numbers or contacts from many IPs runs into these. 0 disables.
LOOKUP_NUMBER_RATE_LIMIT = env.int("LOOKUP_NUMBER_RATE_LIMIT", default=10)
LOOKUP_CONTACT_RATE_LIMIT = env.int("LOOKUP_CONTACT_RATE_LIMIT", default=20)
UPLOAD_MAX_BYTES = env.int("UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
UPLOAD_MAX_FILES = env.int("UPLOAD_MAX_FILES", default=5)
UPLOAD_ALLOWED_EXTENSIONS = env.list(
    "UPLOAD_ALLOWED_EXTENSIONS",
    default=[
        "pdf",
        "jpg",
        "jpeg",
        "png",
        "gif",
        "webp",
        "txt",
        "doc",
        "docx",
        "odt",
        "xls",
        "xlsx",
        "ods",
        "rtf",
        "zip",
    ],
)
DATA_RETENTION_DAYS = env.int("DATA_RETENTION_DAYS", default=365)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Telephony: call-backs and the CTI webhook (tickets/services/callbacks.py, telephony/)
# Hours to call a citizen back after the request (plain clock hours: there is no
# business calendar yet), and failed attempts (no answer, busy) before giving up.
CALLBACK_TARGET_HOURS = env.int("CALLBACK_TARGET_HOURS", default=4)
CALLBACK_MAX_ATTEMPTS = env.int("CALLBACK_MAX_ATTEMPTS", default=3)
# Shared secret the phone platform signs CTI events with; empty = /telephony/cti/ is a 404.
CTI_SECRET = env("CTI_SECRET", default="")
CTI_MAX_BODY_BYTES = env.int("CTI_MAX_BODY_BYTES", default=16384)
# Phone targets on the dashboard: share of missed inbound calls, average speed of answer.
PHONE_ABANDON_TARGET_PERCENT = env.int("PHONE_ABANDON_TARGET_PERCENT", default=10)
PHONE_ANSWER_TARGET_SECONDS = env.int("PHONE_ANSWER_TARGET_SECONDS", default=30)
# The Asterisk manager interface: the bridge (manage.py cti_asterisk) reads its events;
# click-to-call originates through it (off while AMI_HOST or AMI_SECRET is empty).
AMI_HOST = env("AMI_HOST", default="")
AMI_PORT = env.int("AMI_PORT", default=5038)
AMI_USER = env("AMI_USER", default="")
AMI_SECRET = env("AMI_SECRET", default="")
# Dialplan contexts calls from outside enter (their calls are inbound; others outbound).
AMI_INBOUND_CONTEXTS = env.list("AMI_INBOUND_CONTEXTS", default=["from-trunk", "from-external"])
# Click-to-call: ring the operator's phone (the channel, {extension} filled in), then
# dial the number in this context.
AMI_ORIGINATE_CHANNEL = env("AMI_ORIGINATE_CHANNEL", default="PJSIP/{extension}")
AMI_ORIGINATE_CONTEXT = env("AMI_ORIGINATE_CONTEXT", default="from-internal")
# Click-to-call through a generic HTTP hook (any exchange; used instead of AMI when set):
# a signed JSON POST (telephony/pbx_hook.py). Empty = off. The URL must be https (http
# only with DEBUG) and resolve to public addresses unless CLICK_TO_CALL_ALLOW_PRIVATE.
CLICK_TO_CALL_URL = env("CLICK_TO_CALL_URL", default="")
CLICK_TO_CALL_SECRET = env("CLICK_TO_CALL_SECRET", default="")
CLICK_TO_CALL_ALLOW_PRIVATE = env.bool("CLICK_TO_CALL_ALLOW_PRIVATE", default=False)
CLICK_TO_CALL_TIMEOUT = env.float("CLICK_TO_CALL_TIMEOUT", default=5)
# Calls one operator may place per minute (AMI or HTTP); 0 disables the limit.
CLICK_TO_CALL_RATE_LIMIT = env.int("CLICK_TO_CALL_RATE_LIMIT", default=10)

# --- Live chat --------------------------------------------------------------------
# auto: the next waiting chat goes to the available operator with the fewest chats;
# manual: operators pick waiting chats themselves in the console.
CHAT_ROUTING = env("CHAT_ROUTING", default="auto")
# Seconds without a console heartbeat after which an "online" operator gets no chats.
CHAT_PRESENCE_TIMEOUT = env.int("CHAT_PRESENCE_TIMEOUT", default=90)
CHAT_MESSAGE_MAX_CHARS = env.int("CHAT_MESSAGE_MAX_CHARS", default=4000)
# Lines one chat session may send per 10 seconds over all its sockets (an operator
# console: three times this per socket); more are refused until the window passes.
CHAT_RATE_LIMIT = env.int("CHAT_RATE_LIMIT", default=20)
# Sockets one chat session may hold open at once; one more is closed with code 4429.
CHAT_MAX_SOCKETS_PER_SESSION = env.int("CHAT_MAX_SOCKETS_PER_SESSION", default=3)
# Chats a client IP may start per hour; 0 disables the limit.
CHAT_START_RATE_LIMIT = env.int("CHAT_START_RATE_LIMIT", default=30)
CHAT_TOKEN_MAX_AGE = env.int("CHAT_TOKEN_MAX_AGE", default=60 * 60 * 24)

# --- Auth -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# AxesStandaloneBackend first: it refuses a locked-out account or address before any
# password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# --- Staff sign-in: second factor, lockout, sessions (staffauth/) -----------------
# Every staff user must have a second factor (TOTP app or security key) before any admin
# page. Off: a factor is optional, but once enrolled it is always asked for.
STAFF_MFA_REQUIRED = env.bool("STAFF_MFA_REQUIRED", default=not DEBUG)
# When set, STAFF_MFA_REQUIRED applies only to members of these groups, superusers and
# supervisors (`tickets.supervise`); other staff may enrol. Empty: every staff user.
STAFF_MFA_GROUPS = env.list("STAFF_MFA_GROUPS", default=[])
# Staff are signed out after this many idle minutes, and this many hours after signing
# in whatever they do. Citizens' sessions are not affected.
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", default=12)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Helpdesk")
# django-otp's admin forms never show a TOTP key (ours are read-only lists anyway).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Security keys and passkeys (WebAuthn, django-otp-webauthn). A key is bound to the
# relying party ID, the site's domain: changing it later makes every enrolled key useless.
# Unset, it is SITE_URL's host (and staffauth.W001 warns in production).
WEBAUTHN_RP_ID = env("WEBAUTHN_RP_ID", default="")
WEBAUTHN_RP_NAME = env("WEBAUTHN_RP_NAME", default="Helpdesk")
# Origins whose pages may use the keys (scheme://host[:port]); default SITE_URL.
WEBAUTHN_ALLOWED_ORIGINS = env.list("WEBAUTHN_ALLOWED_ORIGINS", default=[SITE_URL])
OTP_WEBAUTHN_RP_ID = WEBAUTHN_RP_ID or (urlsplit(SITE_URL).hostname or "localhost")
OTP_WEBAUTHN_RP_NAME = WEBAUTHN_RP_NAME
OTP_WEBAUTHN_ALLOWED_ORIGINS = WEBAUTHN_ALLOWED_ORIGINS
# Keys are a second factor after the password, never a sign-in on their own.
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
# The library's E031 refuses http:// origins other than localhost (a development
# server at 127.0.0.1, a test server); browsers refuse them anyway, and
# staffauth.W001 says what matters in production.
SILENCED_SYSTEM_CHECKS.append("otp_webauthn.E031")
# django-axes: after AXES_FAILURE_LIMIT failed sign-ins for one account, or from one
# address (separate counters), further attempts are refused for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "staffauth.lockout.axes_client_address"
AXES_LOCKOUT_CALLABLE = "staffauth.lockout.lockout_response"
AXES_VERBOSE = False
# Sign-ins are recorded by the audit log; axes keeps only the failure counters.
AXES_DISABLE_ACCESS_LOG = True

# --- I18n -------------------------------------------------------------------------
LANGUAGE_CODE = "ru"
LANGUAGES = [("ru", _("Russian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Europe/Moscow")
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Attachments, raw e-mails (quarantined ones too) and files attached to outgoing mail:
# the local disk by default (one machine), any S3-compatible object store when a bucket is
# named (several nodes share it; docs/deployment.md). The bucket must be private: files
# leave only through our access checks, streamed by the web process (tickets/downloads.py),
# never as a link to the store.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
MEDIA_S3_OPTIONS = {
    "bucket_name": AWS_STORAGE_BUCKET_NAME,
    # MinIO, Yandex Object Storage, Ceph RGW: their URL; empty = AWS.
    "endpoint_url": env("AWS_S3_ENDPOINT_URL", default="") or None,
    "region_name": env("AWS_S3_REGION_NAME", default="") or None,
    # Empty: boto3's own chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, instance role).
    "access_key": env("AWS_ACCESS_KEY_ID", default="") or None,
    "secret_key": env("AWS_SECRET_ACCESS_KEY", default="") or None,
    # "path" for MinIO and most self-hosted stores; empty = the SDK's choice.
    "addressing_style": env("AWS_S3_ADDRESSING_STYLE", default="") or None,
    # A key prefix inside the bucket, e.g. "helpdesk/".
    "location": env("AWS_LOCATION", default=""),
    # No ACL per object: the bucket's (private) policy applies.
    "default_acl": None,
    # Never replace an object that exists (names are random anyway).
    "file_overwrite": False,
    # Seconds; a store that does not answer fails the request instead of holding a thread.
    "connect_timeout": env.float("AWS_S3_CONNECT_TIMEOUT", default=5),
    "read_timeout": env.float("AWS_S3_READ_TIMEOUT", default=30),
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "helpdesk.object_storage.ObjectStorage",
        "OPTIONS": MEDIA_S3_OPTIONS,
    }

# --- Client addresses and health ------------------------------------------------
# Reverse proxies whose X-Forwarded-For is believed: addresses or CIDR networks, comma
# separated. Empty: the socket's peer address is the client (helpdesk/client_address.py).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
for _proxy in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy.strip(), strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {exc}") from exc
# Sent as the X-Healthz-Token header, it shows the health checks' details (errors,
# timings) to a monitor that is not signed in. Empty: details for signed-in staff only.
HEALTHZ_TOKEN = env("HEALTHZ_TOKEN", default="")
# Sent as "Authorization: Bearer <token>", it lets a Prometheus scraper read /metrics
# (supervisors signed in may too). Empty: no token is accepted.
METRICS_TOKEN = env("METRICS_TOKEN", default="")

# --- Audit log --------------------------------------------------------------------
# Security events (sign-in, rights, personal data viewed, exports) are kept this many
# days, then pruned by the daily job without breaking the hash chain; 0 keeps all.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=1095)
# The audit app takes a request's client address from this callable (trusted proxies).
AUDIT_CLIENT_ADDRESS = "helpdesk.client_address.client_address_from_request"

# --- Outgoing webhooks (webhooks/, docs/webhooks.md) -------------------------------
# Targets on private, loopback, link-local or reserved addresses are refused (SSRF)
# unless this is true; http:// targets only with DEBUG on.
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
# Seconds to connect, and for each read/write of one delivery's request.
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3)
WEBHOOK_TIMEOUT = env.float("WEBHOOK_TIMEOUT", default=10)
# Attempts per delivery (exponential back-off, at most 6 h apart) before it is failed.
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=15)
# A subscription failing for this long without one success is disabled (owner told).
WEBHOOK_DISABLE_AFTER_HOURS = env.int("WEBHOOK_DISABLE_AFTER_HOURS", default=24)
# The delivery log keeps this many days (daily prune job).
WEBHOOK_LOG_DAYS = env.int("WEBHOOK_LOG_DAYS", default=30)

# --- REST API (api/) -----------------------------------------------------------------
# Requests per token (or signed-in user, or client address for the public endpoints)
# per minute, counted in the shared cache; over it: 429 with Retry-After. 0 disables.
API_RATE_LIMIT = env.int("API_RATE_LIMIT", default=300)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "api.authentication.StaffSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.StaffWithScope"],
    "DEFAULT_THROTTLE_CLASSES": ["api.throttling.ApiRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.IdCursorPagination",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ApiAutoSchema",
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpdesk API",
    "DESCRIPTION": (
        "REST API of the help desk (Служба поддержки): appeals, contacts, queues, canned "
        "answers, knowledge base. Tokens: `Authorization: Bearer hd_…`. See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "TicketKindEnum": "tickets.models.Ticket.Kind",
        "LinkKindEnum": "tickets.models.TicketLink.Kind",
        "TicketOutcomeEnum": "tickets.models.Ticket.Outcome",
        # The call-back's name as published before the ticket had an outcome too.
        "OutcomeEnum": "tickets.models.CallbackRequest.Outcome",
    },
}

# --- Security (production) --------------------------------------------------------
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    SILENCED_SYSTEM_CHECKS += env.list("SILENCED_SYSTEM_CHECKS", default=["security.W021"])
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_AGE = 60 * 60 * 12

# --- Logging ----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Status and chat tokens travel in query strings: no access log line keeps them
    # (`python -m helpdesk.serve` does the same for daphne's own access log).
    "filters": {"drop_query_string": {"()": "helpdesk.logfilters.DropQueryString"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes narrates every sign-in at INFO; failures and lockouts (WARNING) stay,
        # and the audit log records sign-ins.
        "axes": {"level": "WARNING"},
        # `manage.py runserver` (daphne's) logs each request here.
        "django.channels.server": {"filters": ["drop_query_string"]},
    },
}
