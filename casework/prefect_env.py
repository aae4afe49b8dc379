"""Where every Casework process finds Prefect: the local stack's address, password and tuning."""

from __future__ import annotations

import os
import secrets
import sys

from casework.crypto import secret_file
from casework.settings import PROJECT_DIR, Settings

PLAIN_HTTP_API_CA = PROJECT_DIR / "casework" / "plain_http_api.pem"


def prefect_auth_string(settings: Settings) -> str:
    """The server's basic-auth "user:password": from settings, or generated once (0600 file)."""
    if settings.prefect_auth_string:
        return settings.prefect_auth_string.get_secret_value()
    made = f"casework:{secrets.token_urlsafe(24)}".encode()
    return secret_file(settings.home / "secrets" / "prefect-auth", made).decode()


def prefect_env(settings: Settings) -> dict[str, str]:
    """Environment every Casework process shares so they all talk to the same local stack."""
    auth = prefect_auth_string(settings)
    env = {
        # The server answers only on 127.0.0.1, asks every client for the password and
        # checks CSRF tokens; the secret lives in <home>/secrets, never in prefect.yaml.
        "PREFECT_SERVER_API_AUTH_STRING": auth,
        "PREFECT_API_AUTH_STRING": auth,
        "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "true",
        "CASEWORK_HOME": str(settings.home),
        "CASEWORK_PROJECT_DIR": str(PROJECT_DIR),
        # The interpreter the worker starts case runs with (prefect.yaml's `command`).
        "CASEWORK_PYTHON": sys.executable,
        "CASEWORK_SMTP_HOST": settings.smtp_host,
        "CASEWORK_SMTP_PORT": str(settings.smtp_port),
        "CASEWORK_PREFECT_PORT": str(settings.prefect_port),
        "PREFECT_HOME": str(settings.home / "prefect"),
        "PREFECT_API_URL": settings.prefect_api_url,
        "PREFECT_SERVER_API_HOST": settings.prefect_host,
        "PREFECT_SERVER_API_PORT": str(settings.prefect_port),
        # The stack's API is plain HTTP: no certificate is ever checked. Prefect still parses
        # certifi's bundle (150 certificates, 28 ms of CPU) for every client it makes, a dozen
        # in each case run; a file of one certificate, whose key was destroyed (so it can
        # verify nothing: TLS with it fails closed), takes under a millisecond. An API behind
        # TLS set from outside keeps Prefect's certificates (apply_prefect_env).
        "PREFECT_API_SSL_CERT_FILE": str(PLAIN_HTTP_API_CA),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": settings.prefect_api_url,
        # Managers see Prefect's UI through the workbench (/prefect/, behind its sign-in),
        # which passes requests on with the stack's password: the UI lives under that path.
        "PREFECT_UI_SERVE_BASE": "/prefect",
        "PREFECT_WORKER_QUERY_SECONDS": f"{settings.worker_poll_seconds:g}",
        "PREFECT_WORKER_PREFETCH_SECONDS": "5",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        # Prefect's server on SQLite answers "database is locked" when writes pile up (a
        # Resume click lost so): logs go in batches every 2 s, not twice a second.
        "PREFECT_LOGGING_TO_API_BATCH_INTERVAL": "2",
        # …and the server's 500 for such a lock (its transaction rolled back) is retried by
        # every Prefect client here (worker, flow runs, casework) as Prefect retries a 503.
        "PREFECT_CLIENT_RETRY_EXTRA_CODES": "500",
        # Prefect's server reads every paused run every 5 s to fail those whose pause timed
        # out. No case run's suspension has a timeout (a case's deadlines are the case
        # database's, escalated by the reconciler), and at 10,000 waiting cases that read kept
        # a core 55% busy with nothing to do: once an hour, a pause that has one still fails.
        "PREFECT_SERVER_SERVICES_PAUSE_EXPIRATIONS_LOOP_SECONDS": "3600",
    }
    if settings.prefect_database_url is not None:
        # A district's stack: Prefect's server on PostgreSQL (see `python -m stack.postgres`).
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = (
            settings.prefect_database_url.get_secret_value()
        )
    return env


def apply_prefect_env(settings: Settings) -> None:
    """Point this process at the local stack unless the environment already says otherwise."""
    env = prefect_env(settings)
    if not os.environ.get("PREFECT_API_URL", env["PREFECT_API_URL"]).startswith("http://"):
        # Pointed at an API behind TLS (a district's load balancer): certifi, or its own file.
        env.pop("PREFECT_API_SSL_CERT_FILE", None)
    for key, value in env.items():
        os.environ.setdefault(key, value)
