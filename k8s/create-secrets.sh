#!/usr/bin/env bash
# Creates (or replaces) the Secret "platform-secrets" in the namespace, from the environment
# or, for the keys that can be made up, from fresh random values. Nothing is written to disk
# and nothing is echoed. Usage:
#   [CODEGEN_WEBHOOK_URL=https://hook.eu1.make.com/...] [GEMINI_API_KEY=...] k8s/create-secrets.sh [namespace]
# Optional, each kept from the Secret when unset: CODEGEN_WEBHOOK_URL (the Make.com webhook;
# without one codegen needs another backend), GEMINI_API_KEY (without one LaTeX OCR runs on
# the local backend), DJANGO_SECRET_KEY (generated the first time), POSTGRES_PASSWORD
# (generated the first time; keep it once PostgreSQL holds data: it is only read when the
# volume is first initialised). Also CODEGEN_WEBHOOK_API_KEY and OPENAI_API_KEY (a
# self-hosted model server's key, if it has one).
set -euo pipefail
NAMESPACE="${1:-platform}"
random() { python3 -c "import secrets; print(secrets.token_hex($1))"; }
existing() {
    kubectl -n "$NAMESPACE" get secret platform-secrets \
        -o jsonpath="{.data.$1}" 2>/dev/null | base64 -d || true
}
if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    POSTGRES_PASSWORD="$(existing POSTGRES_PASSWORD)"
fi
POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-$(random 24)}"
# The pods paste the password into DATABASE_URL (postgres://user:PASSWORD@host/db) by
# Kubernetes variable expansion, which cannot percent-encode: a character such as @ : / ? #
# or % would break the URL or point it elsewhere. Refuse them rather than start broken pods.
if ! [[ "$POSTGRES_PASSWORD" =~ ^[A-Za-z0-9._~-]+$ ]]; then
    echo "POSTGRES_PASSWORD may only hold letters, digits and . _ ~ - (it goes into" \
        "DATABASE_URL unencoded); choose another, e.g. unset it to generate a hex one." >&2
    exit 1
fi
if [ -z "${GEMINI_API_KEY:-}" ]; then
    GEMINI_API_KEY="$(existing GEMINI_API_KEY)"
fi
if [ -z "$GEMINI_API_KEY" ]; then
    echo "warning: no GEMINI_API_KEY: LaTeX OCR will use the local backend (PDFs with a text" \
        "layer only) and codegen cannot use CODEGEN_BACKEND=gemini." >&2
fi
if [ -z "${CODEGEN_WEBHOOK_URL:-}" ]; then
    CODEGEN_WEBHOOK_URL="$(existing CODEGEN_WEBHOOK_URL)"
fi
if [ -z "$CODEGEN_WEBHOOK_URL" ]; then
    echo "warning: no CODEGEN_WEBHOOK_URL: codegen needs CODEGEN_BACKEND=gemini (with a Gemini" \
        "key) or a model server (the self-hosted overlay); until then students read that it" \
        "is not available yet." >&2
fi
# Kept across runs (rotating the Gemini key must not log everyone out); set it to rotate.
if [ -z "${DJANGO_SECRET_KEY:-}" ]; then
    DJANGO_SECRET_KEY="$(existing DJANGO_SECRET_KEY)"
fi
DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-$(random 50)}"
kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"
# --dry-run + apply: the same command creates the Secret or updates it in place.
kubectl -n "$NAMESPACE" create secret generic platform-secrets \
    --from-literal=DJANGO_SECRET_KEY="$DJANGO_SECRET_KEY" \
    --from-literal=POSTGRES_PASSWORD="$POSTGRES_PASSWORD" \
    --from-literal=GEMINI_API_KEY="$GEMINI_API_KEY" \
    --from-literal=CODEGEN_WEBHOOK_URL="$CODEGEN_WEBHOOK_URL" \
    --from-literal=CODEGEN_WEBHOOK_API_KEY="${CODEGEN_WEBHOOK_API_KEY:-}" \
    --from-literal=OPENAI_API_KEY="${OPENAI_API_KEY:-}" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
echo "Secret platform-secrets ready in namespace $NAMESPACE (restart web and worker to pick up changes)."
