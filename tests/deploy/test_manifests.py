"""The Kubernetes and Istio manifests, the Dockerfile and the compose file, checked offline.

No cluster runs here, so the real validators run on the rendered overlays: kustomize
(kubectl kustomize), kubernetes-validate (strict, oldest and newest Kubernetes we support),
Istio's CRD schemas plus a field-name check, checkov and hadolint. Then our own invariants.
"""

from __future__ import annotations

import json
import os
import re
import runpy
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.tools import ROOT, node_tools, tools_venv, yaml_documents

pytestmark = pytest.mark.manifests

OVERLAYS = ["minikube", "production", "self-hosted"]
# The CloudNativePG CRDs of the operator and plugin versions we deploy on (their README).
CRDS = ROOT / "tests" / "fixtures" / "crds"
# Native sidecars (the migration Job) and the preStop sleep action need 1.30.
OLDEST_KUBERNETES = "1.30.0"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "Job", "CronJob"}
LONG_RUNNING_KINDS = {"Deployment", "StatefulSet"}

Document = dict[str, Any]


@pytest.fixture(scope="module")
def tools() -> Path:
    return tools_venv()


@pytest.fixture(scope="module")
def rendered(tools: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each overlay rendered by kustomize into a file."""
    folder = tmp_path_factory.mktemp("rendered")
    files = {}
    for overlay in OVERLAYS:
        result = subprocess.run(
            [str(tools / "kubectl"), "kustomize", str(ROOT / "k8s" / "overlays" / overlay)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"kustomize build of {overlay} failed:\n{result.stderr}"
        files[overlay] = folder / f"{overlay}.yaml"
        files[overlay].write_text(result.stdout)
    return files


@pytest.fixture(scope="module")
def documents(rendered: dict[str, Path]) -> dict[str, list[Document]]:
    return {overlay: yaml_documents(path.read_text()) for overlay, path in rendered.items()}


def is_istio(document: Document) -> bool:
    return str(document["apiVersion"]).split("/")[0].endswith("istio.io")


def is_cloudnative_pg(document: Document) -> bool:
    return str(document["apiVersion"]).split("/")[0].endswith("cnpg.io")


def of_kind(documents: list[Document], kind: str) -> list[Document]:
    return [document for document in documents if document["kind"] == kind]


def pod_spec(workload: Document) -> Document:
    if workload["kind"] == "CronJob":
        return workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return workload["spec"]["template"]["spec"]


def containers(documents: list[Document]) -> Iterator[tuple[Document, Document]]:
    for workload in documents:
        if workload["kind"] in WORKLOAD_KINDS:
            spec = pod_spec(workload)
            for container in spec.get("initContainers", []) + spec["containers"]:
                yield workload, container


def named(document: Document) -> str:
    return f"{document['kind']}/{document['metadata']['name']}"


# --- The real validators ------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_overlay_renders_every_part_of_the_site(
    documents: dict[str, list[Document]], overlay: str
) -> None:
    kinds = {document["kind"] for document in documents[overlay]}
    assert {
        "Namespace", "ConfigMap", "Deployment", "Job", "CronJob", "Service",
        "PodDisruptionBudget", "HorizontalPodAutoscaler", "NetworkPolicy", "ServiceAccount",
        "Gateway", "VirtualService", "DestinationRule", "PeerAuthentication",
        "AuthorizationPolicy", "ServiceEntry", "Sidecar",
    } <= kinds  # fmt: skip
    # PostgreSQL: a StatefulSet on minikube, the CloudNativePG operator's Cluster in production.
    if overlay == "minikube":
        assert "StatefulSet" in kinds
    else:
        assert {"Cluster", "ObjectStore", "ScheduledBackup"} <= kinds
        assert "StatefulSet" not in kinds


def newest_kubernetes(tools: Path) -> str:
    probe = subprocess.run(
        [
            str(tools / "python"),
            "-c",
            "import kubernetes_validate.utils as u; print(u.latest_version())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return probe.stdout.strip()


def kubernetes_validate(tools: Path, path: Path, version: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tools / "kubernetes-validate"), "--strict", "--quiet", "-k", version, str(path)],
        capture_output=True,
        text=True,
    )


def kubernetes_only(documents: list[Document], path: Path, tools: Path) -> Path:
    """The built-in kinds in a file of their own (kubernetes-validate knows no CRDs)."""
    path.write_text(
        "\n".join(
            json.dumps(d) + "\n---"
            for d in documents
            if not is_istio(d) and not is_cloudnative_pg(d)
        )
    )
    return path


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", ["oldest", "newest"])
def test_kubernetes_objects_validate_strictly_against_the_openapi_schemas(
    documents: dict[str, list[Document]], tools: Path, tmp_path: Path, overlay: str, version: str
) -> None:
    path = kubernetes_only(documents[overlay], tmp_path / "objects.yaml", tools)
    kubernetes = OLDEST_KUBERNETES if version == "oldest" else newest_kubernetes(tools)
    result = kubernetes_validate(tools, path, kubernetes)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def test_strict_validation_rejects_a_misspelt_field(
    documents: dict[str, list[Document]], tools: Path, tmp_path: Path
) -> None:
    path = kubernetes_only(documents["minikube"], tmp_path / "objects.yaml", tools)
    path.write_text(path.read_text().replace("readOnlyRootFilesystem", "readOnlyRootFileSystem"))
    result = kubernetes_validate(tools, path, OLDEST_KUBERNETES)
    assert result.returncode != 0
    assert "readOnlyRootFileSystem" in result.stdout


def istio_problems(istio_documents: list[Document]) -> list[str]:
    folder = node_tools()
    result = subprocess.run(
        ["node", "validate-istio.mjs"],
        cwd=folder,
        input=json.dumps(istio_documents),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    problems: list[str] = json.loads(result.stdout)
    return problems


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_istio_objects_match_istio_crd_schemas_and_field_names(
    documents: dict[str, list[Document]], overlay: str
) -> None:
    istio = [document for document in documents[overlay] if is_istio(document)]
    assert len(istio) >= 6
    assert istio_problems(istio) == []


def test_istio_check_reports_a_misspelt_field_and_a_bad_value(
    documents: dict[str, list[Document]],
) -> None:
    gateway = json.loads(json.dumps(of_kind(documents["minikube"], "Gateway")[0]))
    tls = gateway["spec"]["servers"][0]["tls"]
    tls["credentialname"] = tls.pop("credentialName")
    peer = json.loads(json.dumps(of_kind(documents["minikube"], "PeerAuthentication")[0]))
    peer["spec"]["mtls"]["mode"] = 1

    problems = istio_problems([gateway, peer])

    assert any("credentialname: unknown field" in problem for problem in problems)
    assert any(problem.startswith("PeerAuthentication/default:") for problem in problems)


def crd_problems(tools: Path, custom_documents: list[Document]) -> list[str]:
    result = subprocess.run(
        [str(tools / "python"), str(Path(__file__).parent / "validate_crds.py"), str(CRDS)],
        input=json.dumps(custom_documents),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    problems: list[str] = json.loads(result.stdout)
    return problems


@pytest.mark.parametrize("overlay", ["production", "self-hosted"])
def test_cloudnative_pg_objects_match_their_crd_schemas_strictly(
    documents: dict[str, list[Document]], tools: Path, overlay: str
) -> None:
    custom = [document for document in documents[overlay] if is_cloudnative_pg(document)]
    assert {document["kind"] for document in custom} == {
        "Cluster",
        "ObjectStore",
        "ScheduledBackup",
    }
    assert crd_problems(tools, custom) == []


def test_crd_check_reports_a_misspelt_field_a_bad_type_and_an_unknown_kind(
    documents: dict[str, list[Document]], tools: Path
) -> None:
    cluster = json.loads(json.dumps(of_kind(documents["production"], "Cluster")[0]))
    cluster["spec"]["instances"] = "3"
    store = json.loads(json.dumps(of_kind(documents["production"], "ObjectStore")[0]))
    store["spec"]["configuration"]["wal"]["compresion"] = "gzip"
    pooler = {"apiVersion": "postgresql.cnpg.io/v1", "kind": "Pooler", "metadata": {"name": "p"}}

    problems = crd_problems(tools, [cluster, store, pooler])

    assert any("spec.instances: '3' is not of type 'integer'" in p for p in problems)
    assert any("'compresion' was unexpected" in p for p in problems)
    assert any(p.startswith("Pooler/p: no CRD defines") for p in problems)


def checkov(tools: Path, framework: str, path: Path) -> dict[str, Any]:
    result = subprocess.run(
        [
            str(tools / "checkov"),
            *("--framework", framework, "-f", str(path)),
            *("--output", "json", "--quiet", "--skip-download"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    report = json.loads(result.stdout)
    return report[0] if isinstance(report, list) else report


def assert_checkov_clean(report: dict[str, Any]) -> None:
    results = report.get("results", {})
    failed = [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for check in results.get("failed_checks", [])
    ]
    assert failed == []
    for skipped in results.get("skipped_checks", []):
        reason = skipped["check_result"].get("suppress_comment", "")
        assert len(reason) > 20, f"{skipped['check_id']} is skipped without a reason"
    assert report["summary"]["passed"] > 0


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_checkov_finds_no_failed_kubernetes_check(
    rendered: dict[str, Path], tools: Path, overlay: str
) -> None:
    assert_checkov_clean(checkov(tools, "kubernetes", rendered[overlay]))


def test_checkov_finds_no_failed_dockerfile_check(tools: Path) -> None:
    assert_checkov_clean(checkov(tools, "dockerfile", ROOT / "Dockerfile"))


def test_hadolint_finds_nothing_in_the_dockerfile(tools: Path) -> None:
    result = subprocess.run(
        [str(tools / "hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- Our own invariants -------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_has_limits_and_the_restricted_security_context(
    documents: dict[str, list[Document]], overlay: str
) -> None:
    for workload, container in containers(documents[overlay]):
        where = f"{named(workload)} {container['name']}"
        pod = pod_spec(workload)
        assert {"cpu", "memory"} <= set(container["resources"]["limits"]), where
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, where
        assert context["readOnlyRootFilesystem"] is True, where
        assert context["capabilities"]["drop"] == ["ALL"], where
        assert "add" not in context["capabilities"], where
        assert context.get("privileged", False) is False, where
        assert context["runAsNonRoot"] is True, where
        assert context["runAsUser"] > 0, where
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", where
        mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
        assert "/tmp" in mounts, f"{where}: read-only root without a writable /tmp"  # noqa: S108


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_long_running_container_has_probes(
    documents: dict[str, list[Document]], overlay: str
) -> None:
    for workload, container in containers(documents[overlay]):
        if workload["kind"] in LONG_RUNNING_KINDS:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                assert probe in container, f"{named(workload)} {container['name']}: no {probe}"


def test_web_probes_the_health_endpoints_with_an_allowed_host(
    documents: dict[str, list[Document]],
) -> None:
    for overlay in OVERLAYS:
        web = next(c for w, c in containers(documents[overlay]) if named(w) == "Deployment/web")
        assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
        config = of_kind(documents[overlay], "ConfigMap")[0]["data"]
        allowed = config["DJANGO_ALLOWED_HOSTS"].split(",")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            headers = {h["name"]: h["value"] for h in web[probe]["httpGet"]["httpHeaders"]}
            assert headers["Host"] in allowed


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_image_floats_on_latest_or_no_tag(
    documents: dict[str, list[Document]], overlay: str
) -> None:
    for workload, container in containers(documents[overlay]):
        image = container["image"]
        tag = image.rsplit("/", 1)[-1].partition(":")[2]
        assert (tag and tag != "latest") or "@sha256:" in image, f"{named(workload)}: {image}"


def test_no_secret_with_a_value_is_committed(documents: dict[str, list[Document]]) -> None:
    for overlay in OVERLAYS:
        for secret in of_kind(documents[overlay], "Secret"):
            assert not secret.get("data") and not secret.get("stringData"), named(secret)
    committed = [
        path
        for path in (ROOT / "k8s").rglob("*")
        if path.is_file()
        and (
            re.search(r"^kind:\s*Secret\s*$", path.read_text(errors="replace"), re.MULTILINE)
            or "PRIVATE KEY" in path.read_text(errors="replace")
            or path.suffix in {".key", ".pem", ".crt"}
        )
    ]
    assert committed == []


def test_secrets_are_read_only_from_the_secret_never_from_the_configmap(
    documents: dict[str, list[Document]],
) -> None:
    secret_names = {
        "DJANGO_SECRET_KEY",
        "POSTGRES_PASSWORD",
        "GEMINI_API_KEY",
        "CODEGEN_WEBHOOK_URL",
        "OPENAI_API_KEY",
    }
    for overlay in OVERLAYS:
        config = of_kind(documents[overlay], "ConfigMap")[0]["data"]
        assert not secret_names & set(config)
        for workload, container in containers(documents[overlay]):
            for variable in container.get("env", []):
                if variable["name"] in secret_names:
                    reference = variable["valueFrom"]["secretKeyRef"]
                    assert reference["name"] == "platform-secrets", named(workload)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_targets_a_declared_container_port(
    documents: dict[str, list[Document]], overlay: str
) -> None:
    for service in of_kind(documents[overlay], "Service"):
        selector = service["spec"]["selector"]
        pods = [
            workload
            for workload in documents[overlay]
            if workload["kind"] in LONG_RUNNING_KINDS
            and selector.items() <= workload["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert pods, f"{named(service)} selects no workload"
        declared = {
            value
            for workload in pods
            for container in pod_spec(workload)["containers"]
            for port in container.get("ports", [])
            for value in (port.get("name"), port["containerPort"])
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in declared, f"{named(service)} -> {port['targetPort']}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_virtualservice_hosts_match_the_gateway_hosts(
    documents: dict[str, list[Document]], overlay: str
) -> None:
    gateway = of_kind(documents[overlay], "Gateway")[0]
    gateway_hosts = {host for server in gateway["spec"]["servers"] for host in server["hosts"]}
    config = of_kind(documents[overlay], "ConfigMap")[0]["data"]
    for service in of_kind(documents[overlay], "VirtualService"):
        if "gateways" not in service["spec"]:
            # Mesh-internal routing (the model server's, issue 23): never a public host.
            assert not set(service["spec"]["hosts"]) & gateway_hosts, named(service)
            continue
        assert service["spec"]["gateways"] == [gateway["metadata"]["name"]]
        assert set(service["spec"]["hosts"]) == gateway_hosts
    for host in gateway_hosts:
        assert host in config["DJANGO_ALLOWED_HOSTS"].split(",")
        assert f"https://{host}" in config["DJANGO_CSRF_TRUSTED_ORIGINS"].split(",")


def test_the_gateway_serves_https_with_a_credential_and_redirects_http(
    documents: dict[str, list[Document]],
) -> None:
    servers = of_kind(documents["production"], "Gateway")[0]["spec"]["servers"]
    by_port = {server["port"]["number"]: server for server in servers}
    assert by_port[443]["port"]["protocol"] == "HTTPS"
    assert by_port[443]["tls"]["credentialName"] == "platform-tls"
    assert by_port[80]["tls"]["httpsRedirect"] is True


def test_metrics_are_not_reachable_through_the_public_gateway(
    documents: dict[str, list[Document]],
) -> None:
    docs = documents["production"]
    routes = of_kind(docs, "VirtualService")[0]["spec"]["http"]
    first_metrics = next(
        route
        for route in routes
        if any(m.get("uri", {}).get("prefix") == "/metrics" for m in route.get("match", []))
    )
    assert routes.index(first_metrics) == 0
    assert first_metrics["directResponse"]["status"] == 404
    web_policy = next(
        p for p in of_kind(docs, "AuthorizationPolicy") if p["metadata"]["name"] == "web"
    )
    for rule in web_policy["spec"]["rules"]:
        principals = [p for s in rule["from"] for p in s["source"].get("principals", [])]
        if any("ingressgateway" in principal for principal in principals):
            assert "/metrics" in rule["to"][0]["operation"]["notPaths"]


def test_posts_are_never_retried_and_slow_routes_get_long_timeouts(
    documents: dict[str, list[Document]],
) -> None:
    routes = of_kind(documents["production"], "VirtualService")[0]["spec"]["http"]
    for route in routes:
        if "route" not in route:
            continue
        methods = {m.get("method", {}).get("exact") for m in route.get("match", [{}])}
        if methods <= {"GET", "HEAD"} and None not in methods:
            assert route["retries"]["attempts"] >= 1
        else:
            assert route["retries"]["attempts"] == 0, route["name"]
    by_name = {route["name"]: route for route in routes}
    assert by_name["codegen-send"]["timeout"] == "100s"  # > CODEGEN_TIMEOUT_S (90 s)
    assert int(by_name["ocr-upload"]["timeout"].rstrip("s")) >= 60


def matched_route(routes: list[Document], method: str, path: str) -> str:
    """The name of the first route Istio would pick for the request (first match wins)."""
    for route in routes:
        for match in route.get("match", [{}]):
            uri = match.get("uri", {})
            if "exact" in uri and path != uri["exact"]:
                continue
            if "prefix" in uri and not path.startswith(uri["prefix"]):
                continue
            if "regex" in uri and not re.fullmatch(uri["regex"], path):
                continue
            if match.get("method", {}).get("exact", method) != method:
                continue
            return str(route["name"])
    raise AssertionError(f"no route for {method} {path}")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/codegen/send/"),
        ("POST", "/codegen/stream/"),
        ("POST", "/codegen/"),
        ("POST", "/codegen/42/retry/"),
    ],
)
def test_every_request_that_waits_for_the_llm_gets_100s_and_no_retry(
    documents: dict[str, list[Document]], method: str, path: str
) -> None:
    routes = of_kind(documents["production"], "VirtualService")[0]["spec"]["http"]
    route = {r["name"]: r for r in routes}[matched_route(routes, method, path)]

    assert route["timeout"] == "100s"  # > CODEGEN_TIMEOUT_S (90 s)
    assert route["retries"]["attempts"] == 0


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/codegen/", "idempotent"),
        ("GET", "/codegen/42/", "idempotent"),
        ("GET", "/codegen/stream/", "idempotent"),
        ("POST", "/codegen/42/retry/extra/", "other-writes"),
        ("POST", "/codegen/abc/retry/", "other-writes"),
        ("POST", "/accounts/login/", "other-writes"),
    ],
)
def test_the_slow_codegen_routes_catch_nothing_else(
    documents: dict[str, list[Document]], method: str, path: str, expected: str
) -> None:
    routes = of_kind(documents["production"], "VirtualService")[0]["spec"]["http"]

    assert matched_route(routes, method, path) == expected


def test_mutual_tls_is_strict_and_never_switched_off(documents: dict[str, list[Document]]) -> None:
    docs = documents["production"]
    peers = of_kind(docs, "PeerAuthentication")
    assert [peer["spec"]["mtls"]["mode"] for peer in peers] == ["STRICT"]
    assert "portLevelMtls" not in peers[0]["spec"]
    for rule in of_kind(docs, "DestinationRule"):
        assert rule["spec"]["trafficPolicy"]["tls"]["mode"] == "ISTIO_MUTUAL", named(rule)


def test_outbound_traffic_is_limited_to_registered_hosts(
    documents: dict[str, list[Document]],
) -> None:
    docs = documents["production"]
    sidecar = of_kind(docs, "Sidecar")[0]
    assert sidecar["spec"]["outboundTrafficPolicy"]["mode"] == "REGISTRY_ONLY"
    hosts = {host for entry in of_kind(docs, "ServiceEntry") for host in entry["spec"]["hosts"]}
    assert "generativelanguage.googleapis.com" in hosts
    assert any(host.endswith(".make.com") for host in hosts)


def test_only_the_app_reaches_postgresql(documents: dict[str, list[Document]]) -> None:
    docs = documents["production"]
    policies = {p["metadata"]["name"]: p for p in of_kind(docs, "NetworkPolicy")}
    assert policies["default-deny-ingress"]["spec"]["podSelector"] == {}
    sources = policies["postgres-from-app"]["spec"]["ingress"][0]["from"]
    allowed = sources[0]["podSelector"]["matchExpressions"][0]["values"]
    assert set(allowed) == {"web", "worker", "migrate", "reaper", "purge"}
    database = next(
        p for p in of_kind(docs, "AuthorizationPolicy") if p["metadata"]["name"] == "postgres"
    )
    principals = database["spec"]["rules"][0]["from"][0]["source"]["principals"]
    assert {principal.rsplit("/", 1)[-1] for principal in principals} == set(allowed)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_workload_has_its_own_service_account_without_a_token_or_role(
    documents: dict[str, list[Document]], overlay: str
) -> None:
    docs = documents[overlay]
    accounts = {account["metadata"]["name"]: account for account in of_kind(docs, "ServiceAccount")}
    used = [pod_spec(w)["serviceAccountName"] for w in docs if w["kind"] in WORKLOAD_KINDS]
    assert len(used) == len(set(used))
    for name in used:
        assert accounts[name]["automountServiceAccountToken"] is False
    for workload in docs:
        if workload["kind"] in WORKLOAD_KINDS:
            assert pod_spec(workload)["automountServiceAccountToken"] is False
    assert not {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"} & {
        document["kind"] for document in docs
    }


def test_namespace_enforces_restricted_pods_and_sidecar_injection(
    documents: dict[str, list[Document]],
) -> None:
    labels = of_kind(documents["production"], "Namespace")[0]["metadata"]["labels"]
    assert labels["istio-injection"] == "enabled"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_web_is_sized_spread_budgeted_and_autoscaled_as_specified(
    documents: dict[str, list[Document]],
) -> None:
    docs = documents["minikube"]
    web = next(w for w in of_kind(docs, "Deployment") if w["metadata"]["name"] == "web")
    container = pod_spec(web)["containers"][0]
    assert web["spec"]["replicas"] == 2
    assert container["resources"] == {
        "requests": {"cpu": "200m", "memory": "256Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    assert pod_spec(web)["topologySpreadConstraints"][0]["topologyKey"] == "kubernetes.io/hostname"
    # gunicorn's graceful timeout must fit in the grace period.
    assert pod_spec(web)["terminationGracePeriodSeconds"] > 100
    assert of_kind(docs, "PodDisruptionBudget")[0]["spec"]["minAvailable"] >= 1
    autoscaler = of_kind(docs, "HorizontalPodAutoscaler")[0]["spec"]
    assert autoscaler["scaleTargetRef"]["name"] == "web"
    assert autoscaler["metrics"][0]["resource"]["name"] == "cpu"


def test_the_worker_gets_time_to_finish_a_conversion(documents: dict[str, list[Document]]) -> None:
    docs = documents["production"]
    worker = next(w for w in of_kind(docs, "Deployment") if w["metadata"]["name"] == "worker")
    assert pod_spec(worker)["containers"][0]["command"] == ["python", "manage.py", "db_worker"]
    assert pod_spec(worker)["terminationGracePeriodSeconds"] >= 600
    reaper = of_kind(docs, "CronJob")[0]
    assert pod_spec(reaper)["containers"][0]["command"][-1] == "latexocr_reap"
    purge = next(c for c in of_kind(docs, "CronJob") if c["metadata"]["name"] == "purge-expired")
    assert pod_spec(purge)["containers"][0]["command"][-1] == "purge_expired"
    assert purge["spec"]["schedule"] == "30 3 * * *"  # daily, after the 02:00 base backup
    assert purge["spec"]["concurrencyPolicy"] == "Forbid"
    migrate = of_kind(docs, "Job")[0]
    assert pod_spec(migrate)["containers"][0]["command"][2:] == ["migrate", "--no-input"]


def test_minikube_postgresql_is_a_statefulset_with_a_volume_and_pg_isready(
    documents: dict[str, list[Document]],
) -> None:
    database = of_kind(documents["minikube"], "StatefulSet")[0]
    container = pod_spec(database)["containers"][0]
    major = int(container["image"].split(":")[1].split(".")[0])
    assert major >= 16
    claim = database["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["resources"]["requests"]["storage"] == "10Gi"
    assert "pg_isready" in " ".join(container["readinessProbe"]["exec"]["command"])
    service = next(
        s for s in of_kind(documents["minikube"], "Service") if s["metadata"]["name"] == "postgres"
    )
    assert service["spec"]["clusterIP"] == "None"


@pytest.mark.parametrize("overlay", ["production", "self-hosted"])
def test_production_postgresql_is_three_instances_archiving_wal_with_nightly_backups(
    documents: dict[str, list[Document]], overlay: str
) -> None:
    docs = documents[overlay]
    [cluster] = of_kind(docs, "Cluster")
    [store] = of_kind(docs, "ObjectStore")
    [schedule] = of_kind(docs, "ScheduledBackup")
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["affinity"]["podAntiAffinityType"] == "required"
    [archiver] = [plugin for plugin in cluster["spec"]["plugins"] if plugin.get("isWALArchiver")]
    assert archiver["name"] == "barman-cloud.cloudnative-pg.io"
    assert archiver["parameters"]["barmanObjectName"] == store["metadata"]["name"]
    assert cluster["spec"]["postgresql"]["parameters"]["archive_timeout"] == "5min"  # the RPO
    assert store["spec"]["retentionPolicy"] == "30d"  # docs/deploy.md and docs/data.md say so
    assert store["spec"]["configuration"]["destinationPath"].startswith("s3://")
    assert schedule["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    assert schedule["spec"]["method"] == "plugin"
    assert schedule["spec"]["pluginConfiguration"]["name"] == archiver["name"]
    # The pods carry the labels the policies that let only the site in select.
    labels = cluster["spec"]["inheritedMetadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "postgres"
    # The object store is reachable through the mesh's registry-only egress.
    hosts = {host for entry in of_kind(docs, "ServiceEntry") for host in entry["spec"]["hosts"]}
    endpoint = store["spec"]["configuration"]["endpointURL"]
    assert endpoint.removeprefix("https://").split("/")[0] in hosts


@pytest.mark.parametrize("overlay", ["production", "self-hosted"])
def test_production_workloads_read_database_url_from_the_operators_app_secret(
    documents: dict[str, list[Document]], overlay: str
) -> None:
    docs = documents[overlay]
    [cluster] = of_kind(docs, "Cluster")
    for workload, container in containers(docs):
        if workload["kind"] == "Deployment" and named(workload) == "Deployment/model-server":
            continue
        variables = {variable["name"]: variable for variable in container.get("env", [])}
        assert variables["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
            "name": f"{cluster['metadata']['name']}-app",
            "key": "uri",
        }, named(workload)
        assert "value" not in variables["DATABASE_URL"]
        assert "POSTGRES_PASSWORD" not in variables, named(workload)
    assert of_kind(docs, "ConfigMap")[0]["data"]["POSTGRES_HOST"] == "platform-db-rw"


# --- Image, gunicorn and compose --------------------------------------------------------


def test_the_dockerfile_command_names_no_fixed_bind_address() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    commands = [line for line in dockerfile.splitlines() if line.startswith("CMD")]
    assert not any("--bind" in command for command in commands)
    assert 'CMD ["gunicorn", "--config", "gunicorn.conf.py"]' in dockerfile
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.\d+-slim$", dockerfile, re.MULTILINE)
    assert "/usr/local/bin/python" not in dockerfile


@pytest.mark.parametrize(
    ("environment", "bind"),
    [({}, "0.0.0.0:8000"), ({"HOST": "127.0.0.1", "PORT": "18123"}, "127.0.0.1:18123")],
)
def test_gunicorn_binds_the_address_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str], bind: str
) -> None:
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert runpy.run_path(str(ROOT / "gunicorn.conf.py"))["bind"] == [bind]


def test_the_compose_stack_migrates_once_then_runs_web_and_worker_hardened() -> None:
    compose = yaml_documents((ROOT / "docker-compose.yml").read_text())[0]
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "web", "worker"}
    assert "healthcheck" in services["postgres"]
    assert "postgres-data" in compose["volumes"]
    assert services["migrate"]["command"][-2:] == ["migrate", "--no-input"]
    assert services["worker"]["command"][-1] == "db_worker"
    for name in ("web", "worker"):
        assert (
            services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        )
    for name in ("migrate", "web", "worker"):
        assert services[name]["read_only"] is True
        assert services[name]["cap_drop"] == ["ALL"]
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]


def test_env_example_holds_only_obvious_placeholders() -> None:
    values = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert "change-me" in values["DJANGO_SECRET_KEY"]
    assert "change-me" in values["POSTGRES_PASSWORD"]
    assert values["GEMINI_API_KEY"] == ""
    assert "not-a-real" in values["CODEGEN_WEBHOOK_URL"]


# --- The self-hosted model server (issue 23) ------------------------------------------------


def test_the_self_hosted_overlay_points_both_tools_at_the_in_cluster_model_server(
    documents: dict[str, list[Document]],
) -> None:
    docs = documents["self-hosted"]
    config = of_kind(docs, "ConfigMap")[0]["data"]
    assert config["CODEGEN_BACKEND"] == "openai"
    assert config["LATEXOCR_BACKEND"] == "openai"
    assert config["OPENAI_BASE_URL"] == "http://model-server:8000/v1"
    assert config["CODEGEN_OPENAI_MODEL"] and config["LATEXOCR_OPENAI_MODEL"]
    service = next(s for s in of_kind(docs, "Service") if s["metadata"]["name"] == "model-server")
    assert service["spec"]["ports"][0]["port"] == 8000
    server = next(w for w in docs if named(w) == "Deployment/model-server")
    assert server["spec"]["template"]["metadata"]["labels"] == service["spec"]["selector"]
    [vllm] = pod_spec(server)["containers"]
    assert f"--served-model-name={config['CODEGEN_OPENAI_MODEL']}" in vllm["args"]
    assert vllm["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "OPENAI_BASE_URL" not in of_kind(documents["production"], "ConfigMap")[0]["data"]


def test_only_web_and_worker_reach_the_model_server(documents: dict[str, list[Document]]) -> None:
    docs = documents["self-hosted"]
    policy = next(
        p
        for p in of_kind(docs, "NetworkPolicy")
        if p["metadata"]["name"] == "model-server-from-app"
    )
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "app.kubernetes.io/name": "model-server"
    }
    [rule] = policy["spec"]["ingress"]
    [source] = rule["from"]
    assert source["podSelector"]["matchExpressions"][0]["values"] == ["web", "worker"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8000}]
    mesh = next(
        p for p in of_kind(docs, "AuthorizationPolicy") if p["metadata"]["name"] == "model-server"
    )
    assert mesh["spec"]["action"] == "ALLOW"
    [allowed] = mesh["spec"]["rules"]
    principals = allowed["from"][0]["source"]["principals"]
    assert {principal.rsplit("/", 1)[-1] for principal in principals} == {"web", "worker"}
    assert allowed["to"] == [{"operation": {"ports": ["8000"]}}]


def test_the_mesh_never_retries_a_model_call(documents: dict[str, list[Document]]) -> None:
    route = next(
        v
        for v in of_kind(documents["self-hosted"], "VirtualService")
        if v["metadata"]["name"] == "model-server"
    )
    assert [http["retries"]["attempts"] for http in route["spec"]["http"]] == [0]


def test_the_privacy_notice_states_the_backup_retention_the_object_store_keeps(
    documents: dict[str, list[Document]],
) -> None:
    # Students are told an erasure leaves the backups after BACKUP_RETENTION_DAYS: that must
    # be what the ObjectStore actually keeps.
    config = of_kind(documents["production"], "ConfigMap")[0]["data"]
    [store] = of_kind(documents["production"], "ObjectStore")

    assert store["spec"]["retentionPolicy"] == f"{config['BACKUP_RETENTION_DAYS']}d"
