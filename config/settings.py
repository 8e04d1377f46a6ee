"""The one settings module. Everything that differs between machines comes from the environment.

With nothing set (a newcomer's laptop, `make run`) the project runs on SQLite with Celery tasks
executed in-process. With DATABASE_URL and REDIS_URL set it runs on PostgreSQL and a real Celery
worker with Redis. With DEBUG off it refuses to start without a real SECRET_KEY and ALLOWED_HOSTS.
"""

import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# A .env file (written by `make`) fills in what the environment does not set; real environment
# variables always win, so a deployment or a test can override any of it.
environ.Env.read_env(env.str("DJANGO_ENV_FILE", default=str(BASE_DIR / ".env")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)

INSECURE_KEY_PREFIX = "django-insecure-"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

if DEBUG:
    SECRET_KEY = SECRET_KEY or INSECURE_KEY_PREFIX + "local-development-only"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]
else:
    if len(SECRET_KEY) < 50 or SECRET_KEY.startswith(INSECURE_KEY_PREFIX):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters "
            "when DJANGO_DEBUG is off."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off.")

INSTALLED_APPS = [
    "clinicadmin.apps.ClinicAdminSiteConfig",  # Django's admin, with the clinics' site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "patients",
    "audit",
    "booking",
    "planning",
    "notifications",
    "portal",
    "insights",
    "clinicadmin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.IdleLogoutMiddleware",
    "portal.middleware.RefusalsAsPagesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "django.template.context_processors.i18n",
                "portal.context.acting_for",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    # Keep connections between requests; a new PostgreSQL connection costs more than a booking.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # The same backend with booking.rows' statements prepared (config/postgresql/base.py).
        # Behind a connection pooler that cannot keep prepared statements (PgBouncer before 1.21
        # in transaction mode), set DB_PREPARED_STATEMENTS=false.
        DATABASES["default"]["ENGINE"] = "config.postgresql"
        DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
            5 if env.bool("DB_PREPARED_STATEMENTS", default=True) else None
        )
else:
    # IMMEDIATE makes every atomic block take SQLite's write lock up front, so the
    # check-then-insert in the booking services cannot interleave between two requests.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Pluggable: an OpenID Connect backend (ID-porten) is added here and in REST_FRAMEWORK below.
AUTHENTICATION_BACKENDS = env.list(
    "AUTHENTICATION_BACKENDS", default=["booking.auth.PatientUserBackend"]
)

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norwegian Bokmål")), ("nn", _("Norwegian Nynorsk")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Oslo"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# WhiteNoise serves the static files, with DEBUG off under gunicorn too. It finds them where
# the apps keep them, so no collectstatic step is needed to try the product; a deployment runs
# collectstatic for the compressed copies.
WHITENOISE_USE_FINDERS = True
# Until collectstatic has made STATIC_ROOT, WhiteNoise warns on every start that it is missing.
warnings.filterwarnings("ignore", message="No directory at: ", category=UserWarning)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Dates and times as each language writes them ("tirsdag 8. desember kl. 14.45").
FORMAT_MODULE_PATH = ["config.formats"]

CSRF_FAILURE_VIEW = "config.handlers.csrf_failure"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:overview"
# The patient pages log a user out after this long without a page view.
PORTAL_IDLE_MINUTES = env.int("PORTAL_IDLE_MINUTES", default=30)

# Bodies up to 2.5 MB (Django's default); more is answered 413. A form may have as many fields
# as the largest list the API's schema allows (a batch plan's 5,000 task ids) and some more.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_500_000
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5_100

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": env.list(
        "API_AUTHENTICATION_CLASSES",
        default=["rest_framework.authentication.SessionAuthentication"],
    ),
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "booking.api.pagination.BoundedLimitOffsetPagination",
    "DEFAULT_PARSER_CLASSES": [
        "booking.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "booking.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": "20/min"},
    # How many reverse proxies stand in front of the app. DRF identifies a client for the login
    # throttle by X-Forwarded-For only this many hops deep; with 0 it uses the socket address, so
    # a client cannot escape the throttle by inventing the header.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Timevalg API",
    "DESCRIPTION": "Patient self-booking and patient-involved planning for outpatient clinics.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and ReDoc from the drf-spectacular-sidecar package: the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "booking.api.schema.error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "AppointmentStatusEnum": "booking.models.AppointmentStatus",
        "BookingTaskStatusEnum": "planning.models.BookingTaskStatus",
        "PlanStatusEnum": "planning.models.PlanStatus",
        "PlanKindEnum": "planning.models.PlanKind",
        "ResourceKindEnum": "booking.models.ResourceKind",
        "StaffCauseEnum": "booking.api.staff_appointments.STAFF_CAUSES",
        "CancelCauseEnum": "booking.api.staff_appointments.CANCEL_CAUSES",
    },
}

# Celery: a real worker with Redis when REDIS_URL is set; otherwise tasks run in-process.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The queue jobs go to when none is named (the beat's ticks among them): one per deployment
# sharing a Redis, or per test worker.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_DEFAULT_QUEUE", default="celery")
CELERY_BEAT_SCHEDULE = {
    # Booking tasks whose due date passed without the patient's choice get a time.
    "plan-overdue-booking-tasks": {
        "task": "planning.tasks.plan_overdue_booking_tasks",
        "schedule": env.float("PLANNING_OVERDUE_EVERY_S", default=3600.0),
    },
    # The outbox: notices and reminders that are due go out (notifications.services).
    "dispatch-due-notifications": {
        "task": "notifications.tasks.dispatch_due_notifications",
        "schedule": env.float("NOTIFICATIONS_DISPATCH_EVERY_S", default=60.0),
    },
    # Stored answers to Idempotency-Keys hold patients' data: none is kept past its expiry.
    "forget-expired-idempotency-keys": {
        "task": "booking.tasks.forget_expired_idempotency_keys",
        "schedule": 6 * 3600.0,
    },
}

# The planning solver: every solve has a time limit, a worker count and a seed. Deterministic
# solves (one worker) give identical plans for identical input; more workers are faster.
PLANNING_BATCH_TIME_LIMIT_S = env.float("PLANNING_BATCH_TIME_LIMIT_S", default=20.0)
PLANNING_REPLAN_TIME_LIMIT_S = env.float("PLANNING_REPLAN_TIME_LIMIT_S", default=5.0)
PLANNING_SOLVER_WORKERS = env.int("PLANNING_SOLVER_WORKERS", default=2)
PLANNING_SOLVER_SEED = env.int("PLANNING_SOLVER_SEED", default=0)
PLANNING_SOLVER_DETERMINISTIC = env.bool("PLANNING_SOLVER_DETERMINISTIC", default=False)
# A re-plan does not move anyone to a time sooner than this from now.
PLANNING_REPLAN_NOTICE_HOURS = env.int("PLANNING_REPLAN_NOTICE_HOURS", default=2)

# Notices to patients (notifications/). Links in them lead to the patient pages, here.
PATIENT_PAGES_URL = env.str("PATIENT_PAGES_URL", default="http://127.0.0.1:8000/")
# SMS: the console/file backend for development (a JSON line per SMS to NOTIFICATIONS_SMS_FILE,
# or standard output), the HTTP gateway in production.
NOTIFICATIONS_SMS_BACKEND = env.str(
    "NOTIFICATIONS_SMS_BACKEND", default="notifications.channels.ConsoleSms"
)
NOTIFICATIONS_SMS_FILE = env.str("NOTIFICATIONS_SMS_FILE", default="")
NOTIFICATIONS_SMS_GATEWAY_URL = env.str("NOTIFICATIONS_SMS_GATEWAY_URL", default="")
NOTIFICATIONS_SMS_GATEWAY_USER = env.str("NOTIFICATIONS_SMS_GATEWAY_USER", default="")
NOTIFICATIONS_SMS_GATEWAY_PASSWORD = env.str("NOTIFICATIONS_SMS_GATEWAY_PASSWORD", default="")
NOTIFICATIONS_SMS_GATEWAY_TIMEOUT_S = env.float("NOTIFICATIONS_SMS_GATEWAY_TIMEOUT_S", default=10.0)
NOTIFICATIONS_SMS_SENDER = env.str("NOTIFICATIONS_SMS_SENDER", default="Sykehuset")
# The gateway's delivery reports are POSTed with this secret (X-Delivery-Report-Secret); with
# none set, every report is refused.
NOTIFICATIONS_DELIVERY_REPORT_SECRET = env.str("NOTIFICATIONS_DELIVERY_REPORT_SECRET", default="")
# E-mail goes through Django's EMAIL_BACKEND.
NOTIFICATIONS_EMAIL_BACKEND = env.str(
    "NOTIFICATIONS_EMAIL_BACKEND", default="notifications.channels.DjangoEmail"
)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="ikke-svar@sykehuset.example")
# No SMS in the quiet hours, local time: one due then waits for their end.
NOTIFICATIONS_QUIET_HOURS = tuple(env.list("NOTIFICATIONS_QUIET_HOURS", default=["21:00", "08:00"]))
NOTIFICATIONS_QUIET_TIME_ZONE = env.str("NOTIFICATIONS_QUIET_TIME_ZONE", default=TIME_ZONE)
# A notice that fails is tried again after 1, 2, 4, ... minutes (at most an hour apart), and
# after this many attempts in all it is marked failed for staff to follow up.
NOTIFICATIONS_MAX_ATTEMPTS = env.int("NOTIFICATIONS_MAX_ATTEMPTS", default=6)
NOTIFICATIONS_RETRY_BASE_S = env.float("NOTIFICATIONS_RETRY_BASE_S", default=60.0)
NOTIFICATIONS_RETRY_CAP_S = env.float("NOTIFICATIONS_RETRY_CAP_S", default=3600.0)
# The dispatcher claims and sends this many at a time, in one transaction: more is faster, and
# widens the window in which a dispatcher's death makes notices go twice (README).
NOTIFICATIONS_DISPATCH_BATCH = env.int("NOTIFICATIONS_DISPATCH_BATCH", default=20)


def _next_redis_database(url: str) -> str:
    """The same Redis server's next database: redis://host:6379/0 -> redis://host:6379/1."""
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0)
    if database >= 15:
        raise ImproperlyConfigured(
            "REDIS_URL uses Redis database 15, the last; set REDIS_CACHE_URL to another one."
        )
    return urlunsplit(parts._replace(path=f"/{database + 1}"))


# The cache (sessions, throttles) has a Redis database of its own: clearing a Django cache
# empties its whole database, and must not take Celery's queued jobs and results with it.
REDIS_CACHE_URL = env.str("REDIS_CACHE_URL", default="") or (
    _next_redis_database(REDIS_URL) if REDIS_URL else ""
)
CACHES = {
    "default": (
        {"BACKEND": "config.cache.RedisCache", "LOCATION": REDIS_CACHE_URL}
        if REDIS_CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# With Redis every worker shares the cache, so sessions are read from it and written through
# to the database: one SQL statement less per request. A per-process cache would serve stale
# sessions after a logout in another worker, so without Redis sessions stay in the database.
if REDIS_CACHE_URL:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}
