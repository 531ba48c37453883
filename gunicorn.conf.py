"""gunicorn settings, all overridable from the environment (GUNICORN_CMD_ARGS wins over these).

Uvicorn workers (ASGI): the event loop reads each request body before a thread runs the
view, so clients trickling their bodies hold no thread, and platform_site.asgi cuts bodies
slower than a floor rate with 408 (docs/deploy.md, "Slow clients"). Each request then runs
in one of GUNICORN_THREADS threads the process starts once (platform_site.asgi), so a
request waiting 60 s on the LLM holds one thread, not the process.
GUNICORN_WORKER_CLASS=gthread goes back to threaded WSGI workers.
"""

from __future__ import annotations

import os

from platform_site.malloc import malloc_tune

# Fewer glibc arenas and a fixed mmap threshold (docs/performance.md): applied in the master
# now, so the workers it forks inherit them, and again in each worker (post_fork), so the
# settings hold even where the image's environment is not set (a run outside the container).
malloc_tune()


def post_fork(server: object, worker: object) -> None:
    malloc_tune()


WORKER_CLASS = os.environ.get("GUNICORN_WORKER_CLASS", "uvicorn")
if WORKER_CLASS != "uvicorn":
    # gunicorn's own WSGI workers (gthread; sync for the benchmark's comparison).
    wsgi_app = "platform_site.wsgi:application"
    worker_class = WORKER_CLASS
else:
    wsgi_app = "platform_site.asgi:application"
    worker_class = "platform_site.uvicorn_worker.Worker"
    # Connections come from a pool per process (psycopg_pool through Django): a request
    # waiting on the LLM gives its connection back meanwhile (platform_site.core.db_connections).
    # DJANGO_DB_POOL_MAX_SIZE=0 turns it off and opens one connection per request.
    os.environ.setdefault("DJANGO_DB_POOL_MAX_SIZE", "20")
bind = [f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"]  # noqa: S104 (inside the pod; the mesh decides who reaches it)
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Longer than CODEGEN_TIMEOUT_S (90 s) so a slow upstream answer is never cut by gunicorn.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "100"))
keepalive = 5
accesslog = None  # platform_site.middleware.RequestLogMiddleware logs each request
errorlog = "-"
worker_tmp_dir = os.environ.get("GUNICORN_WORKER_TMP_DIR", "/tmp")  # noqa: S108 (an emptyDir in the pod)
forwarded_allow_ips = "*"
