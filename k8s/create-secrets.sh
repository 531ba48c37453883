#!/usr/bin/env bash
# Creates (or replaces) the Secret "platform-secrets" in the namespace, from the environment
# or, for the keys that can be made up, from fresh random values. Nothing is written to disk
# and nothing is echoed. Usage:
#   GEMINI_API_KEY=... CODEGEN_WEBHOOK_URL=https://hook.eu1.make.com/... k8s/create-secrets.sh [namespace]
# Optional: DJANGO_SECRET_KEY, POSTGRES_PASSWORD (generated when unset; keep the database
# password once PostgreSQL holds data: it is only read when the volume is first initialised),
# CODEGEN_WEBHOOK_API_KEY.
set -euo pipefail
NAMESPACE="${1:-platform}"
: "${GEMINI_API_KEY:?set GEMINI_API_KEY (Google AI Studio key)}"
: "${CODEGEN_WEBHOOK_URL:?set CODEGEN_WEBHOOK_URL (the Make.com custom webhook URL)}"
random() { python3 -c "import secrets; print(secrets.token_hex($1))"; }
if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    POSTGRES_PASSWORD="$(kubectl -n "$NAMESPACE" get secret platform-secrets \
        -o jsonpath='{.data.POSTGRES_PASSWORD}' 2>/dev/null | base64 -d || true)"
fi
# Hex only: the password goes into DATABASE_URL unescaped.
POSTGRES_PASSWORD="${POSTGRES_PASSWORD:-$(random 24)}"
DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-$(random 50)}"
kubectl get namespace "$NAMESPACE" >/dev/null 2>&1 || kubectl create namespace "$NAMESPACE"
# --dry-run + apply: the same command creates the Secret or updates it in place.
kubectl -n "$NAMESPACE" create secret generic platform-secrets \
    --from-literal=DJANGO_SECRET_KEY="$DJANGO_SECRET_KEY" \
    --from-literal=POSTGRES_PASSWORD="$POSTGRES_PASSWORD" \
    --from-literal=GEMINI_API_KEY="$GEMINI_API_KEY" \
    --from-literal=CODEGEN_WEBHOOK_URL="$CODEGEN_WEBHOOK_URL" \
    --from-literal=CODEGEN_WEBHOOK_API_KEY="${CODEGEN_WEBHOOK_API_KEY:-}" \
    --dry-run=client -o yaml | kubectl apply -f - >/dev/null
echo "Secret platform-secrets ready in namespace $NAMESPACE (restart web and worker to pick up changes)."
