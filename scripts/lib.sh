# Shared by scripts/run and scripts/test: find a Python 3.12+, keep .venv in step
# with pyproject.toml and the lock, find or start a PostgreSQL.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
CACHE="$ROOT/.cache"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# A candidate counts only if it actually runs and is 3.12+: pyenv shims exist
# for versions that are installed but not enabled, and answer "command not found".
python_is_recent() {
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

find_python() {
    local candidate
    if [ -n "${PYTHON:-}" ]; then
        python_is_recent "$PYTHON" || die "PYTHON=$PYTHON is not a working Python 3.12 or newer."
        echo "$PYTHON"; return
    fi
    for candidate in python3.13 python3.12 python3.14 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 && python_is_recent "$candidate"; then
            command -v "$candidate"; return
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        for candidate in "$(pyenv root)"/versions/3.1[2-9]*/bin/python3; do
            if [ -x "$candidate" ] && python_is_recent "$candidate"; then
                echo "$candidate"; return
            fi
        done
    fi
    die "Python 3.12 or newer is required (Django 6.1 needs it). Install it (e.g. 'apt-get install python3.12 python3.12-venv', or 'pyenv install 3.13') or point PYTHON at one."
}

# Reinstall only when pyproject.toml or the lock changed since the last install.
ensure_venv() {
    local extras="${1:-}" python stamp want spec="$ROOT"
    [ -z "$extras" ] || spec="$ROOT[$extras]"
    if [ ! -x "$VENV/bin/python" ] || ! python_is_recent "$VENV/bin/python"; then
        python="$(find_python)"
        say "creating .venv with $python ($("$python" --version))"
        rm -rf "$VENV"
        "$python" -m venv "$VENV" || die "could not create a virtualenv (on Debian: apt-get install python3-venv)"
    fi
    stamp="$VENV/.installed"
    want="$extras $(cat "$ROOT/pyproject.toml" "$ROOT/requirements/constraints.txt" | sha256sum | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        say "installing Python packages${extras:+ ($extras)}"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        # Not editable (-e): the project installs no package of its own (packages = []), only
        # its dependencies, and setuptools warns about every editable install.
        "$VENV/bin/python" -m pip install --quiet -c "$ROOT/requirements/constraints.txt" "$spec"
        echo "$want" > "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
}

# The development .env (git-ignored) that lets manage.py run from any terminal: a secret key
# generated here, DEBUG on, the SQLite file of this checkout. Written once, never overwritten
# (an .env made for docker compose from .env.example is left as it is). Production never
# reads one: the image leaves .env out and the pods get their variables from Kubernetes.
ensure_dev_env() {
    local file="$ROOT/.env" key
    if [ -e "$file" ]; then
        return
    fi
    key="$("$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(50))')"
    umask 077
    cat > "$file" <<ENV
# Written by scripts/run for development on this machine (git-ignored; never used in
# production). Variables set in the environment win over these lines.
DJANGO_SECRET_KEY=$key
DJANGO_DEBUG=true
DATABASE_URL=sqlite:///$ROOT/db.sqlite3
ENV
    say "wrote .env (development settings for manage.py in any terminal)"
}

postgres_answers() {  # $1: a postgres:// URL
    "$VENV/bin/python" - "$1" <<'PY' >/dev/null 2>&1
import sys, psycopg
psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://", 1), connect_timeout=3).close()
PY
}

# Prints a DATABASE_URL for the tests: the caller's, the machine's server on
# 127.0.0.1:5432, or a throwaway cluster under .cache/ (installing PostgreSQL from
# Debian's packages when its binaries are missing).
ensure_postgres() {
    local db="$1" port=54329 bindir data="$CACHE/postgres"
    if [ -n "${DATABASE_URL:-}" ]; then echo "$DATABASE_URL"; return; fi
    if postgres_answers "postgres://postgres@127.0.0.1:5432/postgres"; then
        echo "postgres://postgres@127.0.0.1:5432/$db"; return
    fi
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [ -z "$bindir" ]; then
        command -v apt-get >/dev/null 2>&1 || die "no PostgreSQL answers on 127.0.0.1:5432 and none can be installed here: set DATABASE_URL."
        say "installing PostgreSQL from Debian's packages"
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
        bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
    fi
    if ! postgres_answers "postgres://postgres@127.0.0.1:$port/postgres"; then
        say "starting a throwaway PostgreSQL on 127.0.0.1:$port"
        mkdir -p "$data"
        local run_as=()
        if [ "$(id -u)" = 0 ]; then chown -R postgres "$CACHE/postgres"; run_as=(runuser -u postgres --); fi
        [ -f "$data/PG_VERSION" ] || "${run_as[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust >&2
        "${run_as[@]}" "$bindir/pg_ctl" -D "$data" -l "$data/log" -o "-h 127.0.0.1 -p $port -k /tmp" -w start >&2
    fi
    echo "postgres://postgres@127.0.0.1:$port/$db"
}
