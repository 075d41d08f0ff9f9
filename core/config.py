"""One `Settings` for every process, read from the environment (and an optional `.env`).

Secrets (the Temporal API key, database passwords inside `DATABASE_URL`) only ever come from
the environment; nothing here has a secret default.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Where the embedded dev server keeps its SQLite file and the app database lives by default.
    data_dir: Path = PROJECT_ROOT / "data"

    # Temporal. When `temporal_address` is unset, `make run` starts the embedded dev server and
    # everything connects to it on `embedded_temporal_port`.
    temporal_address: str | None = None
    temporal_namespace: str = "default"
    temporal_task_queue: str = "grid-connection"
    temporal_api_key: SecretStr | None = None
    temporal_tls: bool = False
    temporal_tls_client_cert: Path | None = None
    temporal_tls_client_key: Path | None = None
    temporal_tls_server_ca: Path | None = None
    temporal_tls_server_name: str | None = None
    embedded_temporal_port: int = 7233
    embedded_temporal_ui_port: int = 8233

    # Application database: SQLite under data_dir unless DATABASE_URL says otherwise.
    database_url: str | None = None

    # Sign-in (docs/access.md). The key signing staff tokens (HS256); unset, each API process
    # draws its own at start, so tokens die with the process (`make run` generates and keeps one).
    jwt_secret: SecretStr | None = None
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # The first administrator, a superuser; created or reset from these at the API's start.
    bootstrap_admin_username: str | None = None
    bootstrap_admin_password: SecretStr | None = None
    # Failed sign-ins allowed per username and per client address in `signin_window_s`.
    signin_failures_per_user: int = Field(default=5, ge=1)
    signin_failures_per_address: int = Field(default=20, ge=1)
    signin_window_s: int = Field(default=900, ge=1)

    # Payload encryption (core/codec.py): `kid:base64key,...`, 256-bit AES-GCM keys, the first
    # one encrypts and all of them decrypt. Unset: payloads travel as plain JSON.
    payload_keys: SecretStr | None = None
    # Origins allowed to call the codec server (/codec/*), comma-separated: Temporal UI's.
    # Unset: the embedded UI's (localhost and 127.0.0.1 on EMBEDDED_TEMPORAL_UI_PORT).
    codec_cors_origins: str | None = None

    # Standard Webhooks secrets (`whsec_<base64>`), one per integration: the approval system's
    # /webhooks/approval/... deliveries and the market regulator's /webhooks/registrations.
    # Unset: those endpoints answer 401 (`make run` generates and prints a pair).
    approval_webhook_secret: SecretStr | None = None
    registration_webhook_secret: SecretStr | None = None

    api_host: str = "127.0.0.1"
    api_port: int = 8000

    # SMS: `log` writes messages to a JSON-lines file, `http` posts them to a gateway.
    sms_gateway: Literal["log", "http"] = "log"
    sms_log_file: Path | None = None
    sms_http_url: str | None = None
    sms_http_token: SecretStr | None = None
    sms_http_timeout_s: float = Field(default=5.0, gt=0)
    sms_rate_per_second: float = Field(default=10.0, gt=0)
    sms_http_retries: int = Field(default=3, ge=0)
    sms_http_backoff_s: float = Field(default=0.5, ge=0)
    # An outbox row that failed this many times is given up (state failed) and shown as such.
    sms_max_attempts: int = Field(default=8, ge=1)
    # Customer progress messages (办电进程主动推送) go out in these daily hours, any day.
    sms_progress_hours: str = Field(default="08:00-20:00", pattern=r"^\d\d:\d\d-\d\d:\d\d$")
    # While progress messages may go out, the dispatcher looks for new rows this often.
    sms_dispatch_poll_minutes: int = Field(default=5, ge=1)
    # `make run` loads the demo organisation (readmodel/demo_org.py) into an empty database.
    seed_demo_org: bool = True
    # And a demo grid for those units (readmodel/demo_grid.py); needs the demo organisation.
    seed_demo_grid: bool = True

    # Workflows the worker keeps in memory between their tasks (the SDK's sticky cache, least
    # recently used evicted first; docs/operations.md gives the memory each one costs).
    worker_max_cached_workflows: int = Field(default=1000, ge=0)
    # Workflow tasks the worker runs at once. They share one interpreter: many at once each wait
    # for it in turn, and one that has not yielded after 2 s is failed by the SDK's deadlock
    # detector; a few at once keep each task short at the same throughput.
    worker_max_concurrent_workflow_tasks: int = Field(default=8, ge=1)

    log_level: str = Field(default="INFO")
    # `json`: one JSON object per line with the application number as a field (core/logging.py).
    log_format: Literal["text", "json"] = "text"
    # Prometheus: the worker's own metrics (warning latency, activity failures) and the Temporal
    # SDK's (polls, task latencies, cache) on these ports of `metrics_host`; 0 turns one off.
    # The API serves the read model's at /metrics on its own port (docs/operations.md).
    metrics_host: str = "127.0.0.1"
    worker_metrics_port: int = Field(default=9464, ge=0, le=65535)
    temporal_metrics_port: int = Field(default=9465, ge=0, le=65535)
    # What "a day" means for defaults such as an application's acceptance instant.
    timezone: str = "Asia/Shanghai"

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, v: str) -> str:
        level = v.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {v!r}")
        return level

    @property
    def effective_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.embedded_temporal_port}"

    @property
    def codec_origins(self) -> list[str]:
        if self.codec_cors_origins:
            return [o.strip() for o in self.codec_cors_origins.split(",") if o.strip()]
        port = self.embedded_temporal_ui_port
        return [f"http://localhost:{port}", f"http://127.0.0.1:{port}"]

    @property
    def uses_embedded_temporal(self) -> bool:
        return self.temporal_address is None

    @model_validator(mode="after")
    def _http_gateway_has_a_url(self) -> Settings:
        # Refuse at start rather than fail every dispatch later.
        if self.sms_gateway == "http" and not self.sms_http_url:
            raise ValueError("SMS_GATEWAY=http needs SMS_HTTP_URL")
        return self

    @property
    def sms_log_path(self) -> Path:
        return self.sms_log_file or self.data_dir / "sms.jsonl"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            # SQLAlchemy needs an explicit driver for psycopg 3; accept the common spellings.
            url = self.database_url
            for prefix in ("postgres://", "postgresql://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix) :]
            return url
        return f"sqlite:///{self.data_dir / 'app.db'}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
