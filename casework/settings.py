"""Settings for every Casework process, read from CASEWORK_* environment variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class Settings(BaseSettings):
    """Where data lives, how mail goes out and who the office is."""

    model_config = SettingsConfigDict(env_prefix="CASEWORK_", env_file=None, extra="ignore")

    home: Path = Field(
        default=PROJECT_DIR / ".casework", description="Data, logs, mailbox, letters"
    )
    database_url: str | None = Field(default=None, description="Defaults to SQLite in home")
    # Printable letters (PDF), one folder a case; a shared folder the printing PC sees, say.
    letters_folder: Path | None = Field(default=None, description="Defaults to home/letters")
    playbooks_dir: Path = PROJECT_DIR / "playbooks"
    templates_dir: Path = PROJECT_DIR / "templates"

    prefect_host: str = "127.0.0.1"
    prefect_auth_string: SecretStr | None = None  # "user:password"; generated when unset
    prefect_port: int = 4200
    # Prefect's own database (postgresql+asyncpg://…); unset: SQLite in home/prefect.
    prefect_database_url: SecretStr | None = None
    work_pool: str = "casework"
    # How often the workers ask Prefect's server for runs to start: each step of a case waits
    # for it, up to this long. Asking more often keeps the server busier (at idle, 2 cores:
    # 6% of a core at 1 s, 9% at 0.5 s, 14% at 0.25 s), and on 2 cores that slowed the runs
    # about as much as it saved: lower it where the server has cores to spare.
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # The workers run on this machine (the embedded stack): the reconciler may look for a run's
    # process to tell a dead run from a slow one. False when workers run on other machines.
    workers_on_this_machine: bool = True

    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False  # upgrade with STARTTLS (port 587)
    smtp_tls: bool = False  # TLS from the first byte (port 465)
    # A private CA that signed the relay's certificate; the system's CAs are used otherwise.
    smtp_ca_file: Path | None = None
    smtp_timeout_seconds: float = 10.0
    # An email claimed by a relay that has not marked it within this time is taken to be lost
    # with its relay (killed between sending and marking) and is sent again, flagged as a resend.
    outbox_lease_seconds: float = 600.0
    mail_from: str = "xxt-window@street-office.example"

    # The office's mailbox, when agencies' replies land at a mail provider rather than at the
    # stack's own SMTP server: the sweep fetches unread mail from it over IMAP.
    imap_host: str | None = None
    imap_port: int = 993
    imap_username: str | None = None
    imap_password: SecretStr | None = None
    imap_tls: bool = True  # IMAPS; false only for a server on this machine
    imap_folder: str = "INBOX"
    # The name the office's own mail server stamps in Authentication-Results: its DKIM pass
    # for an agency's domain files a reply from another address of that domain as the
    # agency's. Empty: only the agency's own listed addresses count.
    mail_authserv_id: str = ""
    imap_ca_file: Path | None = None

    # The street office of a single-office install; cases opened at the CLI belong to it. Its
    # name, address and phone here sign letters only until `casework office add` records it
    # (the demo's office): an office's own details live in the case database.
    office_code: str = "taoranting"
    office_name: str = "陶然亭街道服务中心 “悉心听”窗口"
    office_address: str = "北京市西城区陶然亭街道服务中心一层"
    office_phone: str = "010-0000-0000"
    # 限时办结 overrides, in working days, by playbook slug or by tier (general, hard, complex):
    # CASEWORK_TIME_LIMITS='{"complex": 22, "remote-medical-filing": 7}'. A slug beats its tier,
    # a tier beats the playbook's promised_working_days.
    time_limits: dict[str, int] = Field(default_factory=dict)
    # 二次告知: the 限时办结 clock stands still from the amended notice until the citizen brings
    # what it asks for (the letter says so); false: it runs on (and the letter does not say so).
    second_notice_pauses_clock: bool = True
    # The largest scan, photo or PDF kept with a material (a phone photo is 2–5 MB, a
    # multi-page scan at 300 dpi up to ~15 MB).
    document_max_mb: int = Field(default=20, ge=1, le=200)
    # 好差评: a 不满意 / 非常不满意 rating must be followed up within this many working days.
    rectify_within_working_days: int = Field(default=5, ge=1)
    manager_email: str = "manager@street-office.example"
    staff_email: str = "xxt-window-staff@street-office.example"

    lang: str = "zh"

    # The workbench (web app for window staff, agencies' reply links, citizens' status page).
    web_host: str = "127.0.0.1"
    web_port: int = 8090
    # The address printed in letters and QR codes; behind a proxy, its public address.
    web_public_url: str | None = None
    web_session_hours: float = 8.0  # a signed-in session ends this long after sign-in
    web_idle_minutes: float = 30.0  # … or this long after its last page
    # The reverse proxy in front of the workbench (its address): only its X-Forwarded-For and
    # X-Forwarded-Proto are believed. Empty: none, every client is who it connects as.
    web_trusted_proxy: str = ""
    reply_link_days: int = 30

    # Personal data of closed cases is anonymised this many days after closing (casework purge).
    retention_days: int = 365

    # Encryption at rest (see casework/crypto.py); empty means key files under home/secrets.
    data_keys: SecretStr | None = None
    lookup_key: SecretStr | None = None

    @field_validator("smtp_ca_file", "imap_ca_file")
    @classmethod
    def _readable_ca_file(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @model_validator(mode="after")
    def _one_kind_of_tls(self) -> Settings:
        if self.smtp_tls and self.smtp_starttls:
            raise ValueError("CASEWORK_SMTP_TLS and CASEWORK_SMTP_STARTTLS exclude each other")
        if self.imap_host and not self.imap_tls and self.imap_host not in LOOPBACK:
            # The mailbox password would cross the network in clear.
            raise ValueError("CASEWORK_IMAP_TLS=false is only for a mail server on this machine")
        return self

    @property
    def sqlite_path(self) -> Path:
        return self.home / "casework.db"

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"

    @property
    def prefect_api_url(self) -> str:
        return f"http://{self.prefect_host}:{self.prefect_port}/api"

    @property
    def web_url(self) -> str:
        return (self.web_public_url or f"http://{self.web_host}:{self.web_port}").rstrip("/")

    @property
    def prefect_ui_url(self) -> str:
        return f"http://{self.prefect_host}:{self.prefect_port}"

    @property
    def run_view_url(self) -> str:
        """Prefect's UI as managers open it: through the workbench, behind its sign-in."""
        return f"{self.web_url}/prefect"

    @property
    def letters_dir(self) -> Path:
        return self.letters_folder or self.home / "letters"

    @property
    def mailbox_dir(self) -> Path:
        return self.home / "mailbox"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, created on first use rather than at import."""
    return Settings()
