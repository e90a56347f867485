"""NPU settings. Every value comes from the environment; the defaults are safe for production.

With nothing set, the site refuses to start (no secret key). `make run` sets DJANGO_DEBUG=1, which
switches to development mode: a fixed development key, SQLite in the project, media on local disk.
"""

import os
from pathlib import Path

import botocore.config
import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, *, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, *, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_float(name: str, *, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from error


def env_int(name: str, *, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from error


# Core
DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-key-not-for-production" if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for local development, as `make run` does)."
    )
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "taggit",
    # The apps, catalogs first: docs/architecture.md says which may import which.
    "accounts",
    "parts",
    "creations",
    "scoring",
    "moderation",
    "community",
]
# Demo data (`manage.py seed_demo`) is for development: installed in debug mode, or on purpose
# with NPU_DEMO=1 (a staging site, say); never by production settings otherwise.
NPU_DEMO = env_bool("NPU_DEMO", default=DEBUG)
if NPU_DEMO:
    INSTALLED_APPS.append("demo")

MIDDLEWARE = [
    # Outermost, so it counts every query; drops itself unless NPU_QUERY_COUNT_HEADER is on.
    "npu_site.middleware.QueryCountHeaderMiddleware",
    "npu_site.middleware.RequestIdMiddleware",
    "npu_site.middleware.HealthProbeMiddleware",
    "npu_site.db.PinToPrimaryAfterWriteMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "npu_site.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, which reads the form: an oversized body is refused unread.
    "npu_site.middleware.RequestBodyLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Innermost, so the 405 page it renders has the user, messages and CSRF token of a page.
    "npu_site.middleware.MethodNotAllowedPageMiddleware",
    # A view that fails because the database is down answers 503 with Retry-After.
    "npu_site.unavailable.ServiceUnavailableMiddleware",
]

ROOT_URLCONF = "npu_site.urls"
WSGI_APPLICATION = "npu_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database
# SQLite in the project by default; DATABASE_URL (postgres://...) for PostgreSQL with psycopg 3.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", default=60),
        conn_health_checks=True,
    )
}
# An optional read replica: npu_site.db sends reads there, writes (and reads that must see
# them) to the primary. In tests the replica mirrors the primary's test database.
# Behind pgbouncer in transaction pooling mode, server-side cursors must be off.
if env_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False):
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **dj_database_url.parse(
            DATABASE_REPLICA_URL,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", default=60),
            conn_health_checks=True,
        ),
        "TEST": {"MIRROR": "default"},
        "DISABLE_SERVER_SIDE_CURSORS": DATABASES["default"].get(
            "DISABLE_SERVER_SIDE_CURSORS", False
        ),
    }
    DATABASE_ROUTERS = ["npu_site.db.PrimaryReplicaRouter"]
# No query may hold a worker for long: PostgreSQL cancels any statement that runs longer than
# this (milliseconds; 0 for none, e.g. for a long migration or import run by hand).
DATABASE_STATEMENT_TIMEOUT = env_int("DATABASE_STATEMENT_TIMEOUT", default=10_000)
# Nor may a server that does not answer: a connection attempt gives up after this many seconds
# (libpq's minimum is 2) and the request answers 503 (npu_site.unavailable).
DATABASE_CONNECT_TIMEOUT = env_int("DATABASE_CONNECT_TIMEOUT", default=3)
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _options = _database.setdefault("OPTIONS", {})
        _options["connect_timeout"] = DATABASE_CONNECT_TIMEOUT
        if DATABASE_STATEMENT_TIMEOUT:
            _options["options"] = f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT}"
# After a write, the writer's next requests (the page a form redirects to, say) read from the
# primary for this long, so replication lag never hides a member's own change from them.
NPU_REPLICA_PIN_SECONDS = env_int("NPU_REPLICA_PIN_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache
# Redis when REDIS_URL is set, so every web process shares rate-limit counters and caches.
REDIS_URL = os.environ.get("REDIS_URL", "")
# While Redis is unreachable the site serves without it (npu_site.cache): pages are rendered
# afresh, members' limits are not counted, log-in and sign-up answer 503 (npu_site.ratelimit),
# sessions are read from the database. Every call gives up after REDIS_TIMEOUT seconds, and
# after a failure a process leaves Redis alone for NPU_CACHE_RETRY_SECONDS.
REDIS_TIMEOUT = env_float("REDIS_TIMEOUT", default=0.5)
NPU_CACHE_RETRY_SECONDS = env_float("NPU_CACHE_RETRY_SECONDS", default=5.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "npu_site.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "npu",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT,
                "socket_timeout": REDIS_TIMEOUT,
            },
        }
    }
    # Sessions live in Redis, backed by the database so a Redis restart logs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Anonymous gallery pages and the tag cloud are cached this long (and dropped on any change).
NPU_PAGE_CACHE_SECONDS = env_int("NPU_PAGE_CACHE_SECONDS", default=60)
# Lists of these models are counted once per change to listings and the figure cached, at
# most NPU_COUNT_CACHE_SECONDS (npu_site.paginator); so are tag, part and member figures.
NPU_LISTED_MODELS = ("creations.Creation",)
NPU_COUNT_CACHE_SECONDS = env_int("NPU_COUNT_CACHE_SECONDS", default=300)
# No page starts deeper than this many rows into a list (npu_site.paginator).
NPU_MAX_PAGE_OFFSET = env_int("NPU_MAX_PAGE_OFFSET", default=10_000)

# Accounts
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["accounts.backends.UsernameOrEmailBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Internationalisation
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files: hashed and compressed by whitenoise, served by the web process.
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT") or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]

# Storage
# Local MEDIA_ROOT by default; any S3-compatible bucket when AWS_STORAGE_BUCKET_NAME is set.
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
if AWS_STORAGE_BUCKET_NAME:
    AWS_S3_ENDPOINT_URL = os.environ.get("AWS_S3_ENDPOINT_URL") or None
    AWS_S3_CUSTOM_DOMAIN = os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None
    AWS_S3_REGION_NAME = os.environ.get("AWS_S3_REGION_NAME") or None
    # Uploads get random names, so there is nothing to overwrite; skipping the check saves a
    # HEAD request per file.
    AWS_S3_FILE_OVERWRITE = True
    # Private objects with signed URLs by default; AWS_QUERYSTRING_AUTH=0 for a public-read
    # bucket (or a CDN in front of it), where plain URLs are stable and cacheable.
    AWS_DEFAULT_ACL = None
    AWS_QUERYSTRING_AUTH = env_bool("AWS_QUERYSTRING_AUTH", default=True)
    AWS_QUERYSTRING_EXPIRE = env_int("AWS_QUERYSTRING_EXPIRE", default=3600)
    AWS_S3_OBJECT_PARAMETERS = {"CacheControl": "public, max-age=31536000, immutable"}
    # A store that does not answer fails the upload in seconds rather than holding the worker
    # until gunicorn kills it; a failed call is retried once.
    AWS_S3_CLIENT_CONFIG = botocore.config.Config(
        connect_timeout=env_float("AWS_S3_CONNECT_TIMEOUT", default=3.0),
        read_timeout=env_float("AWS_S3_READ_TIMEOUT", default=5.0),
        retries={"max_attempts": 2, "mode": "standard"},
    )
    MEDIA_STORAGE = {"BACKEND": "storages.backends.s3.S3Storage"}
    if AWS_S3_CUSTOM_DOMAIN:
        MEDIA_ORIGINS = [f"https://{AWS_S3_CUSTOM_DOMAIN}"]
    elif AWS_S3_ENDPOINT_URL:
        MEDIA_ORIGINS = [AWS_S3_ENDPOINT_URL.rstrip("/")]
    else:
        MEDIA_ORIGINS = [
            f"https://{AWS_STORAGE_BUCKET_NAME}.s3.amazonaws.com",
            "https://*.amazonaws.com",
        ]
else:
    MEDIA_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    MEDIA_ORIGINS = []
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Django reads whole uploads up to this size into memory; larger ones spool to a temp file.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Request bodies, by declared length (npu_site.middleware.RequestBodyLimitMiddleware): the views
# that take a picture accept one at the upload limit and its form fields, every other view a
# form or JSON body of this size. The largest form the site takes is about 30 KB (a
# 5,000-character description, in UTF-8 and URL-encoded); the limit leaves room enough that a
# field far too long (a megabyte of text) is still read and refused by name with a 400, while
# no request can make a worker read or spool more than this.
NPU_REQUEST_MAX_BYTES = env_int("NPU_REQUEST_MAX_BYTES", default=4 * 1024 * 1024)
# Form fields and JSON bodies held in memory, in any request; files are not counted here, and
# are bounded by the limits above.
DATA_UPLOAD_MAX_MEMORY_SIZE = NPU_REQUEST_MAX_BYTES
NPU_UPLOAD_VIEWS = frozenset({"creations:new", "api:creation-list"})

# E-mail: the console by default; SMTP when EMAIL_HOST is set; one file per message in the
# folder EMAIL_FILE_PATH names otherwise, when it is set (another process can read them: the
# worker test does).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", default=587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", default=10)
elif os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "NPU <noreply@localhost>")
# The site's address, for links in mail sent with no request at hand (digests).
NPU_SITE_URL = os.environ.get("NPU_SITE_URL", "http://127.0.0.1:8000")

# Security (production mode). `manage.py check --deploy` is clean with DJANGO_DEBUG unset.
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # The TLS-terminating proxy in front of gunicorn says whether the request came over HTTPS.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Off only for `make serve` on plain http://127.0.0.1; behind TLS they stay on.
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_REFERRER_POLICY = "same-origin"
# Content Security Policy: scripts and styles from this site only; pictures also from media
# storage. Inline style attributes are allowed (the score histogram and the admin use them);
# inline scripts are not.
NPU_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src " + " ".join(["'self'", "data:", *MEDIA_ORIGINS]),
        "style-src 'self' 'unsafe-inline'",
        "script-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# How many proxies in front of gunicorn append to X-Forwarded-For; 0 trusts none of it and uses
# the connection's address. Rate limits count per client address found this way.
NPU_TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
RATELIMIT_IP_META_KEY = "npu_site.middleware.client_ip"

# Logging: everything to stdout, where the process manager collects it.
# LOG_FORMAT=json writes one JSON object a line; every line carries the request id.
LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "npu_site.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "npu_site.logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO").upper()},
}

# Tags (django-taggit): every way a tag enters goes through creations.tagging.
TAGGIT_CASE_INSENSITIVE = True
TAGGIT_TAGS_FROM_STRING = "creations.tagging.tags_from_string"
TAGGIT_STRING_FROM_TAGS = "creations.tagging.tags_to_string"

# REST API (/api/v1/)
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes anonymous writes a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token class, refusing a suspended or banned member's token with the reason.
        "accounts.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "npu_site.api.Pagination",
    "DEFAULT_PARSER_CLASSES": [
        "npu_site.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "npu_site.api.AnonReadThrottle",
        "npu_site.api.MemberReadThrottle",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "npu_site.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NPU API",
    "DESCRIPTION": (
        "The REST API of NPU (Nice Part Usage): LEGO creations that use ordinary elements in "
        "unexpected ways, scored for creativity and uniqueness. Reads are public; writes need "
        "a member's token (`Authorization: Token <key>`) or a session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "creations.api.schema.owner_fields_are_optional",
    ],
}

# NPU
# A new member's first uploads wait for a moderator's approval (creations.services
# .uploads_need_review); 0 turns review off.
NPU_REVIEW_FIRST_UPLOADS = env_int("NPU_REVIEW_FIRST_UPLOADS", default=3)
NPU_MAX_TAGS = 10
NPU_MAX_PARTS = 10
NPU_MAX_TAG_LENGTH = 50
NPU_IMAGE_MAX_BYTES = 10 * 1024 * 1024
# A picture at the limit, multipart's overhead and the form's other fields.
NPU_UPLOAD_REQUEST_MAX_BYTES = NPU_IMAGE_MAX_BYTES + 1024 * 1024
NPU_IMAGE_MAX_PIXELS = 40_000_000
# Stored pictures are scaled down to at most this many pixels on their longer side, which
# bounds the encoder's time and the stored file whatever was uploaded.
NPU_IMAGE_MAX_SIDE = env_int("NPU_IMAGE_MAX_SIDE", default=4096)
NPU_THUMBNAIL_SIZE = 480
NPU_GALLERY_PAGE_SIZE = 24
# The tag cloud page shows this many of the most used tags (the API lists every tag).
NPU_TAG_CLOUD_SIZE = 300
# Benchmarks (`make bench`): every response says in X-NPU-Queries how many SQL statements it ran.
# Off by default; when off, the middleware is not in the chain at all.
NPU_QUERY_COUNT_HEADER = env_bool("NPU_QUERY_COUNT_HEADER", default=False)
# How long the author may edit a comment after posting it (moderators may at any time).
NPU_COMMENT_EDIT_SECONDS = 900
NPU_RATE_LIMITS = {
    "login_ip": "10/m",
    "login_username": "10/m",
    "signup": "5/h",
    "upload": "20/h",
    "score": "60/m",
    # Comments and replies, on pages and API alike.
    "comment": "10/m",
    "api_anon": "120/m",
    "api_member": "600/m",
    # Mail to an address someone typed in: password-reset links, sign-up and address-change
    # links (or the note that an account has that address already).
    "password_reset_ip": "5/h",
    "password_reset_address": "5/h",
    "verification_mail_ip": "5/h",
    "verification_mail_address": "5/h",
}
# While the cache is down these limits cannot count, and they refuse (503 with Retry-After)
# rather than let unlimited password guesses or mail through; every other limit lets requests
# through uncounted (npu_site.ratelimit).
NPU_RATE_LIMITS_FAIL_CLOSED = frozenset(
    {
        "login_ip",
        "login_username",
        "signup",
        "password_reset_ip",
        "password_reset_address",
        "verification_mail_ip",
        "verification_mail_address",
    }
)
NPU_RATE_LIMIT_UNAVAILABLE_RETRY_AFTER = 30
# django-ratelimit counts in the default cache: shared through Redis when REDIS_URL is set, per
# process otherwise (fine for `make run`). It is not in INSTALLED_APPS because its system check
# rejects that local-memory default outright.
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", default=True)
RATELIMIT_USE_CACHE = "default"

# Background work: Celery, with Redis as the broker (CELERY_BROKER_URL, by default REDIS_URL).
# With no broker every task runs inline where it is queued (npu_site.background.enqueue), so a
# fresh machine needs nothing installed; CELERY_TASK_ALWAYS_EAGER=1 forces that (the tests).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=not CELERY_BROKER_URL)
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged once it has run, so a worker that dies mid-task leaves it queued for
# another; every task is idempotent, so running one twice changes nothing more.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing never waits long on a broker that is down: the request goes on (npu_site.background).
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 3600,
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
if CELERY_TASK_ALWAYS_EAGER:
    # Inline tasks would log a "succeeded" line into every request's output; a worker's own
    # log keeps them.
    LOGGING["loggers"] = {"celery.app.trace": {"level": "WARNING"}}
# Tasks outside the apps' tasks.py modules (which the worker finds by itself): mail.
CELERY_IMPORTS = ("npu_site.mail",)
# The beat schedule (`celery -A npu_site beat`): digests and the sweep that picks up work whose
# queueing failed while the broker was down, the hourly ranking refresh, and the sweep that
# lifts suspensions whose end has passed.
CELERY_BEAT_SCHEDULE = {
    "community-process-pending-events": {
        "task": "community.tasks.process_pending_events",
        "schedule": 60.0,
    },
    "community-send-digests": {
        "task": "community.tasks.send_digests",
        "schedule": env_int("NPU_DIGEST_INTERVAL_SECONDS", default=3600),
    },
    "scoring-refresh-rankings": {
        "task": "scoring.tasks.refresh_rankings",
        "schedule": 3600.0,
    },
    "accounts-purge-exports": {
        "task": "accounts.tasks.purge_exports",
        "schedule": 3600.0,
    },
    "moderation-restrictions-expire": {
        "task": "moderation.tasks.restrictions_expire",
        "schedule": 300.0,
    },
}
