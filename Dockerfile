# One image for the web (gunicorn, the default command), the worker (manage.py db_worker)
# and the migrations (manage.py migrate). Targets: "web" (the default, last stage) and
# "worker" (the same plus TeX Live for the LaTeX compile check).
# No `# syntax=` line and no heredocs: the image is also built by buildah 1.28 (podman 4.3),
# which ignores the first and rejects the second (docs/deploy.md).
ARG PYTHON_IMAGE=python:3.13-slim

# --- build: the virtualenv, the collected static files and the compiled translations -------
# checkov cannot see through the ARG; the default names a version tag (3.13), never latest.
#checkov:skip=CKV_DOCKER_7:the base comes from ARG PYTHON_IMAGE, whose default python:3.13-slim is a version tag
FROM ${PYTHON_IMAGE} AS build
ENV PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# gettext: compilemessages needs msgfmt; it stays in this stage only.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml ./
COPY requirements/constraints.txt requirements/constraints.txt
# The runtime dependencies only (no dev extra), at the versions of the lock.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/python -m pip install -c requirements/constraints.txt .
COPY . .
# A throwaway key: collectstatic and compilemessages sign nothing, but settings refuse to
# load without one when DEBUG is off. It never reaches the runtime stages' environment.
RUN DJANGO_SECRET_KEY=build-time-only-not-a-secret DJANGO_ALLOWED_HOSTS=build \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    /opt/venv/bin/python manage.py collectstatic --no-input -v 0 \
    && DJANGO_SECRET_KEY=build-time-only-not-a-secret DJANGO_ALLOWED_HOSTS=build \
    /opt/venv/bin/python manage.py compilemessages --ignore=.venv -v 0 \
    && /opt/venv/bin/python -m compileall -q /app

# --- runtime: what web and worker share, below the code so a code change rebuilds little ---
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    HOME=/tmp \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_LOG_FORMAT=json \
    PORT=8000 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    MALLOC_ARENA_MAX=2
# MALLOC_MMAP_THRESHOLD_: glibc otherwise raises its mmap threshold after the first large
# free, so the next 20 MB upload buffers come from per-thread arenas and stay in the RSS
# after the request (docs/performance.md). A fixed threshold returns them to the system.
# MALLOC_ARENA_MAX: 2 arenas instead of up to 8 per core for 16 threads per worker, so freed
# memory is not spread over arenas that are never trimmed. gunicorn.conf.py and manage.py
# apply both with mallopt() too (platform_site/malloc.py), for runs outside the image.
# A fixed uid/gid so Kubernetes' runAsUser and file ownership agree (k8s/base).
RUN groupadd --system --gid 10001 app \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin app
WORKDIR /app
EXPOSE 8000

# --- worker: db_worker, with TeX Live for the compile check and Tesseract for scans ----------
FROM runtime AS worker
# The same TeX Live and Tesseract packages as requirements/debian-packages.txt
# (docs/latex-compile.md, docs/latexocr.md), installed before the code is copied, so a code
# change does not reinstall them.
# hadolint ignore=DL3008
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        texlive-latex-base texlive-latex-recommended texlive-latex-extra \
        texlive-lang-french texlive-fonts-recommended texlive-science latexmk \
        cm-super lmodern \
        tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
# The code belongs to root and is read-only for the app user; only /tmp is written
# (an emptyDir / tmpfs: the root filesystem is read-only in the pods).
USER 10001:10001
ENV DJANGO_TASKS_BACKEND=database LATEXOCR_COMPILER="latexmk -pdf"
# The worker serves no HTTP: Kubernetes watches the process itself.
HEALTHCHECK NONE
CMD ["python", "manage.py", "db_worker"]

# --- web: the default target (last stage) ---------------------------------------------------
FROM runtime AS web
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
USER 10001:10001
# gunicorn.conf.py binds HOST:PORT; GUNICORN_CMD_ARGS="--bind ..." overrides it.
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"]
