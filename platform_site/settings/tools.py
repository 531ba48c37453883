"""Settings of the outside models (Gemini, an OpenAI-compatible server, the webhook) and of
both tools (codegen, latexocr). Every variable is listed in README.md."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from platform_site.settings.environment import env

# --- Outside APIs ----------------------------------------------------------------------
GEMINI_API_KEY = env.str("GEMINI_API_KEY", default="")
GEMINI_BASE_URL = env.str("GEMINI_BASE_URL", default="")
# PDFs above this size go through the Files API instead of inline data (Google's inline
# limit is 50 MB; base64 makes inline data a third larger).
GEMINI_INLINE_PDF_MAX_MB = env.int("GEMINI_INLINE_PDF_MAX_MB", default=20)
# Backoff between retries: base * 2^(n-1) with jitter, capped (a 429's RetryInfo delay is
# honoured up to the cap).
GEMINI_RETRY_BASE_S = env.float("GEMINI_RETRY_BASE_S", default=1.0)
GEMINI_RETRY_MAX_S = env.float("GEMINI_RETRY_MAX_S", default=60.0)
# An OpenAI-compatible model server the university runs (vLLM, Ollama...), with the SDK's own
# variable names; the key is optional (servers without one get a placeholder).
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="")
OPENAI_RETRY_BASE_S = env.float("OPENAI_RETRY_BASE_S", default=1.0)
OPENAI_RETRY_MAX_S = env.float("OPENAI_RETRY_MAX_S", default=60.0)

CODEGEN_BACKEND = env.str("CODEGEN_BACKEND", default="webhook")
CODEGEN_WEBHOOK_URL = env.str("CODEGEN_WEBHOOK_URL", default="")
CODEGEN_WEBHOOK_API_KEY = env.str("CODEGEN_WEBHOOK_API_KEY", default="")
CODEGEN_GEMINI_MODEL = env.str("CODEGEN_GEMINI_MODEL", default="gemini-3.8-flash")
CODEGEN_OPENAI_MODEL = env.str("CODEGEN_OPENAI_MODEL", default="")
# Stream the model server's answer to the page as it comes (every server named above can).
CODEGEN_OPENAI_STREAM = env.bool("CODEGEN_OPENAI_STREAM", default=True)
CODEGEN_TIMEOUT_S = env.float("CODEGEN_TIMEOUT_S", default=90.0)
CODEGEN_MAX_MESSAGE_CHARS = env.int("CODEGEN_MAX_MESSAGE_CHARS", default=8000)
CODEGEN_DAILY_QUOTA = env.int("CODEGEN_DAILY_QUOTA", default=100)
CODEGEN_MAX_IN_FLIGHT = env.int("CODEGEN_MAX_IN_FLIGHT", default=8)
# Pause before the webhook's single retry (doubled at most, with jitter; a 429's Retry-After
# is honoured instead when it fits in CODEGEN_TIMEOUT_S).
CODEGEN_RETRY_BACKOFF_S = env.float("CODEGEN_RETRY_BACKOFF_S", default=1.0)
# Sends of one question at most (the first included): each is a paid LLM call, and the daily
# quota counts a question once however often it is resent.
CODEGEN_MAX_SENDS = env.int("CODEGEN_MAX_SENDS", default=3)
if CODEGEN_BACKEND not in ("webhook", "gemini", "openai"):
    raise ImproperlyConfigured(
        f"CODEGEN_BACKEND must be 'webhook', 'gemini' or 'openai', not {CODEGEN_BACKEND!r}."
    )

LATEXOCR_BACKEND = env.str("LATEXOCR_BACKEND", default="gemini" if GEMINI_API_KEY else "local")
if LATEXOCR_BACKEND not in ("gemini", "local", "openai"):
    raise ImproperlyConfigured(
        f"LATEXOCR_BACKEND must be 'gemini', 'local' or 'openai', not {LATEXOCR_BACKEND!r}."
    )
# The vision model of the `openai` backend (OPENAI_BASE_URL), how its page images are made
# (150 dpi: an A4 page is 1240 x 1754 pixels, what Qwen2.5-VL-class models read well), how
# many go in one request (vLLM's --limit-mm-per-prompt must allow it) and its output budget
# (a range cut by it is split in two, as with Gemini; it must fit the server's context).
LATEXOCR_OPENAI_MODEL = env.str("LATEXOCR_OPENAI_MODEL", default="")
LATEXOCR_OPENAI_IMAGE_DPI = env.int("LATEXOCR_OPENAI_IMAGE_DPI", default=150)
LATEXOCR_OPENAI_IMAGE_FORMAT = env.str("LATEXOCR_OPENAI_IMAGE_FORMAT", default="png").lower()
if LATEXOCR_OPENAI_IMAGE_FORMAT not in ("png", "jpeg"):
    raise ImproperlyConfigured(
        "LATEXOCR_OPENAI_IMAGE_FORMAT must be 'png' or 'jpeg', "
        f"not {LATEXOCR_OPENAI_IMAGE_FORMAT!r}."
    )
LATEXOCR_OPENAI_PAGES_PER_CALL = env.int("LATEXOCR_OPENAI_PAGES_PER_CALL", default=4)
LATEXOCR_OPENAI_MAX_TOKENS = env.int("LATEXOCR_OPENAI_MAX_TOKENS", default=16384)
# Time allowed to one Gemini call (one page range); each retry gets the same again.
LATEXOCR_CALL_TIMEOUT_S = env.float("LATEXOCR_CALL_TIMEOUT_S", default=300.0)
LATEXOCR_GEMINI_MODEL = env.str("LATEXOCR_GEMINI_MODEL", default="gemini-3.8-flash")
LATEXOCR_MAX_UPLOAD_MB = env.int("LATEXOCR_MAX_UPLOAD_MB", default=20)
LATEXOCR_MAX_PAGES = env.int("LATEXOCR_MAX_PAGES", default=200)
# Uploads read, checked and stored at once per process (pypdf's parse and the database
# writes; the PDF itself is spooled to /tmp), and how long one more waits before a 429.
LATEXOCR_MAX_CONCURRENT_UPLOADS = env.int("LATEXOCR_MAX_CONCURRENT_UPLOADS", default=2)
LATEXOCR_UPLOAD_WAIT_S = env.float("LATEXOCR_UPLOAD_WAIT_S", default=30.0)
# Pages per Gemini call: at least LATEXOCR_PAGES_PER_CALL, more (up to the max) so that the
# ranges fit in one wave of LATEXOCR_PARALLEL_CALLS calls (latexocr.engines.backends.range_size).
LATEXOCR_PAGES_PER_CALL = env.int("LATEXOCR_PAGES_PER_CALL", default=10)
LATEXOCR_MAX_PAGES_PER_CALL = env.int("LATEXOCR_MAX_PAGES_PER_CALL", default=20)
LATEXOCR_PARALLEL_CALLS = env.int("LATEXOCR_PARALLEL_CALLS", default=4)
LATEXOCR_MAX_ATTEMPTS = env.int("LATEXOCR_MAX_ATTEMPTS", default=4)
# Runs of one conversion at most (user retries and reaper requeues together): each run can
# cost up to one Gemini call per page range, and the daily quota counts a conversion once.
LATEXOCR_MAX_RUNS = env.int("LATEXOCR_MAX_RUNS", default=3)
# A running conversion writes a heartbeat every LATEXOCR_HEARTBEAT_S; the reaper (a CronJob
# every minute) requeues one silent for LATEXOCR_STUCK_AFTER_S: a dead worker's conversion
# is requeued within 90 + 60 s of the death, a slow one that is alive never.
LATEXOCR_HEARTBEAT_S = env.float("LATEXOCR_HEARTBEAT_S", default=20.0)
LATEXOCR_STUCK_AFTER_S = env.int("LATEXOCR_STUCK_AFTER_S", default=90)
LATEXOCR_DAILY_QUOTA = env.int("LATEXOCR_DAILY_QUOTA", default=30)
# The local engine's scanned pages: each read by Tesseract within this limit, this many at once.
LATEXOCR_LOCAL_PAGE_TIMEOUT_S = env.float("LATEXOCR_LOCAL_PAGE_TIMEOUT_S", default=60.0)
LATEXOCR_LOCAL_PARALLEL_PAGES = env.int("LATEXOCR_LOCAL_PARALLEL_PAGES", default=2)
LATEXOCR_COMPILER = env.str("LATEXOCR_COMPILER", default="")
LATEXOCR_COMPILE_TIMEOUT_S = env.int("LATEXOCR_COMPILE_TIMEOUT_S", default=60)
# Cap on every file the TeX engine writes (log, PDF...) and on their total: a document
# that loops on output is stopped there instead of filling the worker's disk.
LATEXOCR_COMPILE_MAX_OUTPUT_MB = env.int("LATEXOCR_COMPILE_MAX_OUTPUT_MB", default=50)
# Files the engine may write (a normal run writes under 10; one hostile document wrote
# 135,750): past this it is stopped like an oversize output.
LATEXOCR_COMPILE_MAX_FILES = env.int("LATEXOCR_COMPILE_MAX_FILES", default=500)
# Edits and restores of versions per user and hour (each costs a compilation); 0 = no limit.
LATEXOCR_RECOMPILES_PER_HOUR = env.int("LATEXOCR_RECOMPILES_PER_HOUR", default=30)
# Largest LaTeX a student may submit from the editor (then 413).
LATEXOCR_MAX_LATEX_KB = env.int("LATEXOCR_MAX_LATEX_KB", default=1024)
