#!/usr/bin/env bash
# A self-signed certificate for the site's host, stored as the TLS Secret the Gateway names
# (credentialName: platform-tls) in istio-system, where the ingress gateway runs.
# The private key is written to a temporary folder and removed: it lives only in the cluster.
# Usage: k8s/tls/make-cert.sh [host]   (default platform.test, the minikube overlay's host)
set -euo pipefail
HOST="${1:-platform.test}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
openssl req -x509 -newkey rsa:2048 -sha256 -days 365 -nodes \
    -keyout "$WORK/tls.key" -out "$WORK/tls.crt" \
    -subj "/CN=$HOST" -addext "subjectAltName=DNS:$HOST" 2>/dev/null
kubectl -n istio-system create secret tls platform-tls \
    --key "$WORK/tls.key" --cert "$WORK/tls.crt" --dry-run=client -o yaml | kubectl apply -f -
# Browsers and curl need the certificate to trust it (curl --cacert platform-tls.crt ...).
cp "$WORK/tls.crt" "./platform-tls.crt"
echo "platform-tls ready in istio-system for $HOST; certificate copied to ./platform-tls.crt"
