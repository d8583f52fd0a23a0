"""Settings from the environment (``INTAKE_*``), read once per process through
:func:`get_settings` and never at import time, so tests can override them."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from extractors.archive import ArchiveLimits
from extractors.ocr import engines
from extractors.registry import ParseOptions


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(user_data_dir("intake", appauthor=False)))
    database_url: str | None = None  # default: SQLite under data_dir
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_name: str = "intake"
    default_rule_pack: str = "xian-2018"

    # auto: RapidOCR for pictures and scans of up to ocr_long_scan pages, tesseract beyond;
    # or rapidocr / tesseract throughout (see extractors.ocr.engines)
    ocr_engine: str = "auto"
    ocr_long_scan: int = 30
    ocr_lang: str = "chi_sim+eng"
    # tesseract: re-read figures with a digits-only pass (+30 % time; no gain measured on
    # the dev corpus, where RapidOCR reads the pictures)
    ocr_digits: bool = False
    ocr_psm: int = 4
    ocr_dpi: int = 200
    ocr_timeout: float = 180.0
    ocr_workers: int = Field(default_factory=lambda: os.cpu_count() or 1)

    max_upload_bytes: int = 200 << 20
    max_request_bytes: int = 1 << 30  # one upload request (many files), refused at the door
    # A request body whose next chunk does not arrive within this many seconds is answered
    # 408 and its connection closed (a half-sent upload is not held open); 0: never.
    body_idle_timeout: float = 60.0
    max_pages: int = 1000
    max_frames: int = 50
    max_image_pixels: int = 64_000_000
    max_expanded_bytes: int = 512 << 20
    max_archive_members: int = 500
    max_archive_bytes: int = 1 << 30
    # Admission of one upload request as a whole (intake.dossiers.Admission); over any
    # limit the upload is refused as one (413), nothing of it kept. max_archive_members
    # counts members across all nesting levels of the upload, not per archive.
    max_dossier_files: int = 300  # files in one dossier, those it has and those uploaded
    max_upload_stored_bytes: int = 2 << 30  # what one upload stores, its archives expanded

    # Accounts: browser sessions last this long; cookies are Secure behind HTTPS (set
    # INTAKE_COOKIE_SECURE=true in a deployment that terminates TLS in front of the API).
    session_hours: float = 12.0
    cookie_secure: bool = False
    # The application round new dossiers belong to (default: the current year).
    current_round: str = ""
    timezone: str = "Asia/Shanghai"  # times on the web pages (stored in UTC)

    # Rate limits (see intake.ratelimit), counted in Redis (rate_limit_storage, default the
    # queue's Redis; "memory://" for one process) under rate_limit_prefix. Rates are in the
    # `limits` notation: "5/15 minutes".
    rate_limit_storage: str | None = None
    rate_limit_prefix: str = "intake-limits"
    login_rate_per_client_account: str = "5/15 minutes"  # one client guessing one account
    login_rate_per_client: str = "30/15 minutes"  # one client trying many names
    login_rate_per_account: str = "50/hour"  # many clients guessing one account
    # upload requests of one account (the web page sends a request per file: a dropped
    # folder of max_dossier_files must fit)
    upload_rate_per_account: str = "400/minute"

    worker_heartbeat: int = 30  # seconds between a busy worker's heartbeats
    # The queues an `intake worker` serves, in the order it takes jobs (intake.queue.Lane):
    # "quick,ocr" every file, quick ones first; "quick" only DOCX and text PDFs, so that a
    # deployment can keep a worker free for them while others read scans.
    worker_queues: str = "quick,ocr"
    job_timeout: int = 3600  # seconds for one file's parse job (a 200-page scan)

    # Operations (intake.metrics, intake.logs). /metrics answers a bureau account (API token
    # or browser session), or a scraper sending ``Authorization: Bearer <metrics_token>``;
    # metrics_public=true opens it to anyone who can reach the port (a private network).
    metrics_public: bool = False
    metrics_token: str | None = None
    # "text": plain lines for a terminal; "json": one JSON object a line, with the request,
    # user, dossier, file and job ids, for a log collector.
    log_format: Literal["text", "json"] = "text"

    @property
    def ocr_config(self) -> str:
        """What a parse's OCR depended on: a parse made otherwise is redone."""
        digits = ":digits" if self.ocr_digits else ""
        tesseract = f"tesseract:{self.ocr_lang}:psm{self.ocr_psm}{digits}"
        short, long = engines(self.ocr_engine, self.ocr_lang, self.ocr_psm, 1.0)
        names = [tesseract if e.name == "tesseract" else e.name for e in (short, long)]
        return f"{names[0]}|{names[1]}>{self.ocr_long_scan}:{self.ocr_dpi}dpi"

    @property
    def round(self) -> str:
        """New dossiers' round: set, or the year now where the bureau is (a UTC server
        on New Year's morning in Xi'an is still in the old year)."""
        from datetime import datetime
        from zoneinfo import ZoneInfo

        return self.current_round or str(datetime.now(ZoneInfo(self.timezone)).year)

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'intake.db'}"

    def parse_options(self, progress=None) -> ParseOptions:
        short, long = engines(
            self.ocr_engine, self.ocr_lang, self.ocr_psm, self.ocr_timeout, self.ocr_digits
        )
        options = ParseOptions(
            ocr=short,
            ocr_long=long,
            long_scan=self.ocr_long_scan,
            ocr_dpi=self.ocr_dpi,
            ocr_workers=self.ocr_workers,
            max_pages=self.max_pages,
            max_frames=self.max_frames,
            max_image_pixels=self.max_image_pixels,
            max_expanded_bytes=self.max_expanded_bytes,
        )
        if progress is not None:
            options.progress = progress
        return options

    def limiter(self):
        """This process's rate limiter for these settings (intake.ratelimit)."""
        from intake.ratelimit import limiter_for

        return limiter_for(self.rate_limit_storage or self.redis_url, self.rate_limit_prefix)

    def archive_limits(self) -> ArchiveLimits:
        return ArchiveLimits(
            max_members=self.max_archive_members,
            max_total_bytes=self.max_archive_bytes,
            max_member_bytes=self.max_upload_bytes,
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
