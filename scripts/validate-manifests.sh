#!/usr/bin/env bash
# Only the deployment checks (marker "manifests"): kustomize, kubernetes-validate, Istio's
# schemas, checkov, hadolint and our invariants, without the rest of the suite.
# The validators install into .cache/ on first use (tests/deploy/tools.py).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
ensure_venv "dev"
export DJANGO_DEBUG=false DJANGO_SECRET_KEY="test-only-not-a-secret" DJANGO_ALLOWED_HOSTS="*"
export DATABASE_URL="${DATABASE_URL:-sqlite:///$CACHE/manifests.db}"
exec pytest -q -p no:cacheprovider -m manifests tests/deploy "$@"
