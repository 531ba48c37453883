#!/usr/bin/env bash
# Only the deployment checks (marker "manifests"): kustomize, kubernetes-validate, Istio's
# schemas, checkov, hadolint and our invariants, without the rest of the suite.
# The same as scripts/test --stage manifests; the validators install into .cache/ on first
# use (tests/deploy/tools.py).
exec "$(dirname "$0")/test" --stage manifests "$@"
