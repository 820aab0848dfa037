"""Process settings from the environment (``STOCKADE_*``) and flags, as one injected object.

Nothing reads the environment anywhere else; the composition root (``stockade.server``) builds
a ``Settings`` and hands the parts each layer needs to it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

LatencyProfile = Literal["off", "fast", "aws-like"]


class SandboxSettings(BaseSettings):
    """How the embedded sandbox behaves."""

    model_config = SettingsConfigDict(env_prefix="STOCKADE_SANDBOX_", extra="forbid")

    #: time runs this many times faster than in AWS: quotas, delays and latencies alike
    time_scale: float = Field(default=20.0, gt=0, le=10_000)
    latency: LatencyProfile = "fast"
    #: how long CreateAccount stays IN_PROGRESS, in AWS seconds (divided by time_scale)
    create_account_delay: float = Field(default=60.0, ge=0)
    #: how long a stack operation stays in progress, in AWS seconds (divided by time_scale);
    #: 0 completes it inside the request, as moto does
    stack_seconds: float = Field(default=0.0, ge=0)
    #: moto's random seed, so account and request ids are deterministic
    seed: int = 42
    #: enforce AWS's API quotas (throttle like AWS does when a client calls too fast)
    enforce_quotas: bool = True
    #: check every request against the caller's IAM policies (moto's evaluator); the sandbox
    #: credentials are then an all-powerful user of the management account
    #: (``cloud.sandbox.iam_authorization``)
    iam_authorization: bool = False


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STOCKADE_", extra="ignore")

    #: where Stockade keeps its local state (SQLite databases, sandbox journal, admin token)
    home: Path = Path(".stockade")
    #: SQLAlchemy URL of Stockade's database; default SQLite in ``home``
    database_url: str | None = None
    #: DBOS system database; default: the same PostgreSQL database, or a SQLite file in ``home``
    system_database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    #: unique and stable per process (DBOS recovers the workflows of the executor that ran them)
    executor_id: str = "stockade-local"
    #: onboarding workflows that may run at once in this process
    onboard_concurrency: int = Field(default=50, ge=1, le=1000)
    #: new tenants whose services deploy at once, once they are active (the sandbox uses 1:
    #: it serves one request at a time, and onboarding comes first)
    services_concurrency: int = Field(default=8, ge=1, le=1000)
    #: share of each AWS quota the rate budgets use (the rest is headroom)
    rate_safety: float = Field(default=0.95, gt=0, le=1)
    #: a break-glass request must be approved within this many seconds, and is then usable
    #: (once) for as long again
    break_glass_window_seconds: int = Field(default=3600, ge=60, le=7 * 86_400)

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'stockade.db').resolve()}"

    def resolved_system_database_url(self) -> str:
        if self.system_database_url:
            return self.system_database_url
        url = self.resolved_database_url()
        if url.startswith("sqlite"):
            return f"sqlite:///{(self.home / 'dbos.sqlite').resolve()}"
        return url
