"""Offline checks of the deployment files.

Covers the service Dockerfiles and .dockerignore, deploy/gunicorn.conf.py,
deploy/compose.yaml (+ postgres-init) and the Kubernetes manifests in deploy/k8s.
No network and no Docker: Kubernetes objects are validated with the schemas that
kubernetes-validate ships, the RabbitmqCluster custom resource with a small
hand-written JSON schema.
"""

from __future__ import annotations

import copy
import datetime
import http.server
import json
import re
import runpy
import shlex
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import schema_contents
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
COMPOSE_FILE = DEPLOY / "compose.yaml"
GUNICORN_CONF = DEPLOY / "gunicorn.conf.py"
INIT_SQL = DEPLOY / "postgres-init" / "01-databases.sql"
CRD_FILE = K8S / "rabbitmq-cluster.yaml"
KUSTOMIZATION = K8S / "kustomization.yaml"
DEV_ONLY_FILES = {"postgres-dev.yaml"}

SERVICES = ["establishments", "sessions", "candidates", "printing", "identity", "gateway"]
DB_SERVICES = [svc for svc in SERVICES if svc != "gateway"]
PDF_SERVICES = {"printing", "identity"}
PANGO_PACKAGES = {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b"}

NAMESPACE = "ceres"
K8S_VERSION = "1.30"  # shipped by kubernetes-validate 1.37 (1.25 ... 1.37)
WEB_PORT = 8000
GUNICORN_CMD = "gunicorn -c /app/deploy/gunicorn.conf.py ceres_{svc}.wsgi:app"
# Kinds that are not namespaced (no metadata.namespace expected).
CLUSTER_SCOPED = {"Namespace"}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------
def load_yaml_docs(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def k8s_files() -> list[Path]:
    """Every Kubernetes manifest checked against the official schemas."""
    return sorted(p for p in K8S.glob("*.yaml") if p not in (CRD_FILE, KUSTOMIZATION))


def all_k8s_objects() -> list[dict]:
    return [doc for path in k8s_files() for doc in load_yaml_docs(path)]


def find(objects: list[dict], kind: str, name: str) -> dict | None:
    for obj in objects:
        if obj.get("kind") == kind and obj.get("metadata", {}).get("name") == name:
            return obj
    return None


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_spec(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]


def all_containers(spec: dict) -> list[dict]:
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def resolve_port(spec: dict, port) -> int:
    """Resolve a probe/Service port (number or container port name) to a number."""
    if isinstance(port, int):
        return port
    for container in spec["containers"]:
        for p in container.get("ports", []):
            if p.get("name") == port:
                return p["containerPort"]
    raise AssertionError(f"port {port!r} is not declared by any container")


def cpu_millicores(q) -> float:
    q = str(q)
    return float(q[:-1]) if q.endswith("m") else float(q) * 1000


@pytest.fixture(scope="module")
def k8s_objects() -> list[dict]:
    return all_k8s_objects()


# ---------------------------------------------------------------------------
# Kubernetes: schema validation
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("path", k8s_files(), ids=lambda p: p.name)
def test_k8s_manifest_matches_kubernetes_schema(path):
    docs = load_yaml_docs(path)
    assert docs, f"{path.name} holds no object"
    for doc in docs:
        label = f"{path.name}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            location = ".".join(str(p) for p in exc.path)
            pytest.fail(f"{label} invalid at {location}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            pytest.fail(f"{label}: {exc.message}")


def test_strict_validation_catches_misspelt_fields(k8s_objects):
    """Guard against a validator that silently accepts anything."""
    deployment = copy.deepcopy(find(k8s_objects, "Deployment", "sessions-web"))
    kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)
    container = pod_spec(deployment)["containers"][0]
    container["readinesProbe"] = container.pop("readinessProbe")  # typo
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)


def test_k8s_objects_live_in_ceres_namespace(k8s_objects):
    assert find(k8s_objects, "Namespace", NAMESPACE) is not None
    for obj in k8s_objects + load_yaml_docs(CRD_FILE):
        meta = obj["metadata"]
        if obj["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in meta
        else:
            assert meta.get("namespace") == NAMESPACE, f"{obj['kind']}/{meta['name']}"


def test_k8s_object_names_are_unique(k8s_objects):
    keys = [(o["kind"], o["metadata"]["name"]) for o in k8s_objects]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)


def test_kustomization_lists_every_manifest(k8s_objects):
    kustomization = yaml.safe_load(KUSTOMIZATION.read_text())
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["namespace"] == NAMESPACE
    resources = kustomization["resources"]
    assert len(resources) == len(set(resources))
    for resource in resources:
        assert (K8S / resource).is_file(), resource
    expected = {p.name for p in K8S.glob("*.yaml")} - {KUSTOMIZATION.name} - DEV_ONLY_FILES
    assert set(resources) == expected
    # Every ceres image placeholder used by a workload can be overridden.
    overridable = {entry["name"] for entry in kustomization["images"]}
    used = {
        c["image"].rsplit(":", 1)[0]
        for obj in k8s_objects
        if obj["kind"] == "Deployment"
        for c in all_containers(pod_spec(obj))
    }
    assert used == {f"ceres/{svc}" for svc in SERVICES}
    assert used <= overridable


# ---------------------------------------------------------------------------
# Kubernetes: workloads
# ---------------------------------------------------------------------------
def check_hardened(deployment: dict) -> None:
    """Non-root, read-only root filesystem with writable /tmp and /app/var, resources."""
    name = deployment["metadata"]["name"]
    spec = pod_spec(deployment)
    pod_sc = spec.get("securityContext", {})
    assert pod_sc.get("runAsNonRoot") is True, name
    assert pod_sc.get("runAsUser", 0) != 0, name
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for container in all_containers(spec):
        cname = f"{name}/{container['name']}"
        # `command` would replace the image ENTRYPOINT (tini) and leave the process
        # as PID 1, deaf to SIGTERM: only `args` may be overridden.
        assert "command" not in container, f"{cname}: use args, not command"
        sc = container.get("securityContext", {})
        assert sc.get("runAsUser", 1) != 0, cname
        assert sc.get("allowPrivilegeEscalation") is False, cname
        assert sc.get("readOnlyRootFilesystem") is True, cname
        assert "ALL" in sc.get("capabilities", {}).get("drop", []), cname
        mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
        for path in ("/tmp", "/app/var"):
            assert path in mounts, f"{cname} has no writable {path}"
            assert "emptyDir" in volumes[mounts[path]], f"{cname}: {path} is not an emptyDir"
        resources = container.get("resources", {})
        for section in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                assert resource in resources.get(section, {}), f"{cname}: {section}.{resource}"
        assert cpu_millicores(resources["requests"]["cpu"]) <= cpu_millicores(resources["limits"]["cpu"])


def check_env(container: dict, svc: str, objects: list[dict]) -> set[str]:
    """CERES_SERVICE is set and every envFrom source exists; returns the keys it provides."""
    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    assert env.get("CERES_SERVICE") == svc
    keys = set(env)
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            obj = find(objects, "ConfigMap", source["configMapRef"]["name"])
            assert obj is not None, source
            keys |= set(obj.get("data", {}))
        else:
            obj = find(objects, "Secret", source["secretRef"]["name"])
            assert obj is not None, source
            keys |= set(obj.get("stringData", {})) | set(obj.get("data", {}))
    return keys


@pytest.mark.parametrize("svc", SERVICES)
def test_web_deployment(svc, k8s_objects):
    deployment = find(k8s_objects, "Deployment", f"{svc}-web")
    assert deployment is not None, f"no Deployment {svc}-web"
    assert deployment["spec"]["replicas"] == 2
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selects(deployment["spec"]["selector"]["matchLabels"], labels)
    spec = pod_spec(deployment)
    check_hardened(deployment)

    (web,) = [c for c in spec["containers"] if c["name"] == "web"]
    assert web["image"] == f"ceres/{svc}:latest"
    assert [p["containerPort"] for p in web["ports"]] == [WEB_PORT]
    # The image's default command (gunicorn) runs unless overridden with that same command.
    assert web.get("args", GUNICORN_CMD.format(svc=svc).split()) == GUNICORN_CMD.format(svc=svc).split()

    probes = {
        "readinessProbe": "/readyz",
        "livenessProbe": "/healthz",
        "startupProbe": "/healthz",
    }
    for probe_name, path in probes.items():
        probe = web.get(probe_name)
        assert probe is not None, f"{svc}-web has no {probe_name}"
        assert probe["httpGet"]["path"] == path
        assert resolve_port(spec, probe["httpGet"]["port"]) == WEB_PORT
    # Liveness must not kill a pod that is merely slow to boot.
    startup = web["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60

    keys = check_env(web, svc, k8s_objects)
    init = spec.get("initContainers", [])
    if svc == "gateway":
        assert not init
        assert "DATABASE_URL" not in keys
        assert {f"SERVICE_URL_{s.upper()}" for s in DB_SERVICES} <= keys
    else:
        assert {"DATABASE_URL", "AMQP_URL", "JWKS_URL", "CERES_SECRET_KEY"} <= keys
        assert [c["name"] for c in init] == ["db-upgrade"]
        assert init[0]["args"] == ["flask", "--app", f"ceres_{svc}.wsgi", "db-upgrade"]
        assert init[0]["image"] == web["image"]
        assert "DATABASE_URL" in check_env(init[0], svc, k8s_objects)
    if svc == "identity":
        assert "SMTP_URL" in keys


def test_graceful_shutdown_fits_termination_grace_period(k8s_objects):
    graceful = runpy.run_path(str(GUNICORN_CONF))["graceful_timeout"]
    for svc in SERVICES:
        spec = pod_spec(find(k8s_objects, "Deployment", f"{svc}-web"))
        web = spec["containers"][0]
        pre_stop = int(web["lifecycle"]["preStop"]["exec"]["command"][-1])
        assert pre_stop + graceful < spec.get("terminationGracePeriodSeconds", 30), svc


@pytest.mark.parametrize("svc", DB_SERVICES)
def test_worker_deployment(svc, k8s_objects):
    deployment = find(k8s_objects, "Deployment", f"{svc}-worker")
    assert deployment is not None, f"no Deployment {svc}-worker"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert selects(deployment["spec"]["selector"]["matchLabels"], labels)
    check_hardened(deployment)
    spec = pod_spec(deployment)
    (worker,) = spec["containers"]
    assert worker["image"] == f"ceres/{svc}:latest"
    assert worker["args"] == ["flask", "--app", f"ceres_{svc}.wsgi", "worker"]
    assert not worker.get("ports"), "workers serve no HTTP"
    health = ["flask", "--app", f"ceres_{svc}.wsgi", "worker-health"]
    liveness = worker["livenessProbe"]
    assert liveness["exec"]["command"] == health
    assert liveness["timeoutSeconds"] >= 5, "the probe imports the app: give it time"
    if "startupProbe" in worker:
        assert worker["startupProbe"]["exec"]["command"] == health
    assert {"DATABASE_URL", "AMQP_URL"} <= check_env(worker, svc, k8s_objects)


def test_gateway_has_no_worker(k8s_objects):
    assert find(k8s_objects, "Deployment", "gateway-worker") is None
    gateway_deployments = [
        o["metadata"]["name"]
        for o in k8s_objects
        if o["kind"] == "Deployment"
        and o["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/name") == "gateway"
    ]
    assert gateway_deployments == ["gateway-web"]


@pytest.mark.parametrize("svc", SERVICES)
def test_service_targets_web_pods_only(svc, k8s_objects):
    service = find(k8s_objects, "Service", svc)
    assert service is not None, f"no Service {svc}"
    assert service["spec"].get("type", "ClusterIP") == "ClusterIP"
    web = find(k8s_objects, "Deployment", f"{svc}-web")
    selector = service["spec"]["selector"]
    assert selects(selector, web["spec"]["template"]["metadata"]["labels"])
    worker = find(k8s_objects, "Deployment", f"{svc}-worker")
    if worker is not None:
        assert not selects(selector, worker["spec"]["template"]["metadata"]["labels"])
    (port,) = service["spec"]["ports"]
    assert port["port"] == 80
    assert resolve_port(pod_spec(web), port["targetPort"]) == WEB_PORT


@pytest.mark.parametrize("svc", SERVICES)
def test_pod_disruption_budget(svc, k8s_objects):
    web = find(k8s_objects, "Deployment", f"{svc}-web")
    budgets = [
        o
        for o in k8s_objects
        if o["kind"] == "PodDisruptionBudget"
        and selects(o["spec"]["selector"]["matchLabels"], web["spec"]["template"]["metadata"]["labels"])
    ]
    assert len(budgets) == 1, f"{svc}: expected one PDB for the web pods"
    spec = budgets[0]["spec"]
    replicas = web["spec"]["replicas"]
    if "maxUnavailable" in spec:
        assert 1 <= int(spec["maxUnavailable"]) < replicas
    else:
        assert 1 <= int(spec["minAvailable"]) < replicas, "PDB would block every drain"


def test_ingress_exposes_gateway_only(k8s_objects):
    ingresses = [o for o in k8s_objects if o["kind"] == "Ingress"]
    assert ingresses
    gateway = find(k8s_objects, "Service", "gateway")
    port_names = {p["name"] for p in gateway["spec"]["ports"]}
    for ingress in ingresses:
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                assert backend["name"] == "gateway"
                assert backend["port"].get("name") in port_names or backend["port"].get("number") == 80
    exposed = [
        o for o in k8s_objects if o["kind"] == "Service" and o["spec"].get("type") in ("NodePort", "LoadBalancer")
    ]
    assert not exposed, "only the Ingress is reachable from outside the cluster"


def test_secrets_are_placeholders_only(k8s_objects):
    secrets = [o for o in k8s_objects if o["kind"] == "Secret"]
    assert secrets
    for secret in secrets:
        assert "data" not in secret, "use stringData placeholders, never encoded values"
        for key, value in secret["stringData"].items():
            assert "CHANGE_ME" in value, f"{secret['metadata']['name']}.{key} looks like a real secret"
    for svc in DB_SERVICES:
        url = find(k8s_objects, "Secret", f"{svc}-secrets")["stringData"]["DATABASE_URL"]
        parts = urlsplit(url)
        assert parts.scheme == "postgresql+psycopg"
        assert parts.path == f"/ceres_{svc}"
    amqp = urlsplit(find(k8s_objects, "Secret", "ceres-amqp")["stringData"]["AMQP_URL"])
    assert amqp.scheme == "amqp" and amqp.path == "/ceres"
    # Host is the client Service of the RabbitmqCluster.
    cluster_name = load_yaml_docs(CRD_FILE)[0]["metadata"]["name"]
    assert amqp.hostname.split(".")[0] == cluster_name


def test_configmap_points_at_services(k8s_objects):
    data = find(k8s_objects, "ConfigMap", "ceres-config")["data"]
    assert all(isinstance(v, str) for v in data.values()), "ConfigMap values must be strings"
    services = {o["metadata"]["name"] for o in k8s_objects if o["kind"] == "Service"}
    for svc in DB_SERVICES:
        url = urlsplit(data[f"SERVICE_URL_{svc.upper()}"])
        assert url.hostname.split(".")[0] == svc and svc in services
    jwks = urlsplit(data["JWKS_URL"])
    assert jwks.hostname.split(".")[0] == "identity"
    assert jwks.path == "/.well-known/jwks.json"
    assert 1 <= int(data["GUNICORN_WORKERS"]) <= 4
    # Clients declare x-queue-type explicitly: it must agree with the 3-node cluster.
    assert data["AMQP_QUEUE_TYPE"] == "quorum"
    assert not {"DATABASE_URL", "AMQP_URL", "CERES_SECRET_KEY"} & set(data), "secrets in a ConfigMap"


def test_identity_pods_share_signing_keys(k8s_objects):
    """Each pod generating its own key would make tokens fail on the other replica."""
    for name in ("identity-web", "identity-worker"):
        spec = pod_spec(find(k8s_objects, "Deployment", name))
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in all_containers(spec):
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            keys_dir = env.get("IDENTITY_KEYS_DIR")
            assert keys_dir, f"{name}/{container['name']}: IDENTITY_KEYS_DIR not set"
            (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == keys_dir]
            assert mount.get("readOnly") is True
            secret = volumes[mount["name"]]["secret"]["secretName"]
            assert find(k8s_objects, "Secret", secret) is not None
            assert not keys_dir.startswith(("/app/var", "/tmp"))


def test_dev_postgres_creates_the_service_databases():
    objects = load_yaml_docs(K8S / "postgres-dev.yaml")
    statefulset = find(objects, "StatefulSet", "postgres")
    assert statefulset is not None
    init = find(objects, "ConfigMap", "postgres-dev-init")["data"]
    assert created_databases("\n".join(init.values())) == created_databases(INIT_SQL.read_text())


# ---------------------------------------------------------------------------
# Kubernetes: RabbitmqCluster custom resource (not covered by kubernetes-validate)
# ---------------------------------------------------------------------------
_K8S_DEFS = "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.api.core.v1."
_QUANTITY = {"type": ["string", "integer"], "pattern": r"^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$"}

RABBITMQ_CLUSTER_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "rabbitmq.com/v1beta1"},
        "kind": {"const": "RabbitmqCluster"},
        "metadata": {
            "type": "object",
            "required": ["name", "namespace"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$"},
                "namespace": {"const": NAMESPACE},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "required": ["replicas", "resources", "persistence", "rabbitmq"],
            "additionalProperties": False,
            "properties": {
                # Quorum queues need an odd number of nodes, three at least.
                "replicas": {"type": "integer", "minimum": 3, "not": {"multipleOf": 2}},
                "image": {"type": "string", "pattern": r"^rabbitmq:3\.13"},
                "imagePullSecrets": {"type": "array"},
                "resources": {
                    "allOf": [{"$ref": _K8S_DEFS + "ResourceRequirements"}],
                    "required": ["requests", "limits"],
                    "properties": {
                        "requests": {"required": ["cpu", "memory"], "additionalProperties": _QUANTITY},
                        "limits": {"required": ["cpu", "memory"], "additionalProperties": _QUANTITY},
                    },
                },
                "persistence": {
                    "type": "object",
                    "required": ["storage"],
                    "additionalProperties": False,
                    "properties": {"storageClassName": {"type": "string"}, "storage": _QUANTITY},
                },
                "rabbitmq": {
                    "type": "object",
                    "required": ["additionalConfig"],
                    "additionalProperties": False,
                    "properties": {
                        "additionalConfig": {"type": "string"},
                        "advancedConfig": {"type": "string"},
                        "envConfig": {"type": "string"},
                        "erlangInetConfig": {"type": "string"},
                        "additionalPlugins": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "affinity": {"$ref": _K8S_DEFS + "Affinity"},
                "tolerations": {"type": "array", "items": {"$ref": _K8S_DEFS + "Toleration"}},
                "service": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer"]},
                        "annotations": {"type": "object"},
                        "ipFamilyPolicy": {"type": "string"},
                    },
                },
                "tls": {"type": "object"},
                "override": {"type": "object"},
                "secretBackend": {"type": "object"},
                "terminationGracePeriodSeconds": {"type": "integer", "minimum": 0},
                "delayStartSeconds": {"type": "integer", "minimum": 0},
                "skipPostDeploySteps": {"type": "boolean"},
                "autoEnableAllFeatureFlags": {"type": "boolean"},
            },
        },
    },
}


def rabbitmq_validator() -> jsonschema.Draft202012Validator:
    # Embedded core types (affinity, resources...) reuse the offline Kubernetes definitions.
    definitions = schema_contents(
        f"kubernetes-json-schema/v{K8S_VERSION}.0-local-strict/_definitions.json", K8S_VERSION
    )
    registry = Resource.from_contents(definitions) @ Registry()
    return jsonschema.Draft202012Validator(RABBITMQ_CLUSTER_SCHEMA, registry=registry)


def rabbitmq_conf(text: str) -> dict[str, str]:
    """Parse rabbitmq.conf (sysctl-like key = value lines)."""
    conf = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, sep, value = line.partition("=")
            assert sep, f"not a key = value line: {line!r}"
            conf[key.strip()] = value.strip()
    return conf


def test_rabbitmq_cluster_matches_schema():
    docs = load_yaml_docs(CRD_FILE)
    assert [d["kind"] for d in docs] == ["RabbitmqCluster"]
    errors = sorted(rabbitmq_validator().iter_errors(docs[0]), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{'.'.join(map(str, e.path))}: {e.message}" for e in errors)
    assert docs[0]["spec"]["replicas"] == 3


def test_rabbitmq_schema_rejects_broken_clusters():
    validator = rabbitmq_validator()
    good = load_yaml_docs(CRD_FILE)[0]
    mutations = {
        "even replicas": lambda d: d["spec"].update(replicas=2),
        "misspelt field": lambda d: d["spec"].update(replica=3),
        "bad affinity": lambda d: d["spec"].update(affinity={"podAntiAffinity": {"required": []}}),
        "no limits": lambda d: d["spec"]["resources"].pop("limits"),
        "bad quantity": lambda d: d["spec"]["persistence"].update(storage="lots"),
    }
    for label, mutate in mutations.items():
        doc = copy.deepcopy(good)
        mutate(doc)
        assert not validator.is_valid(doc), f"schema accepted: {label}"


def test_rabbitmq_defaults_to_quorum_queues_on_ceres_vhost():
    spec = load_yaml_docs(CRD_FILE)[0]["spec"]
    conf = rabbitmq_conf(spec["rabbitmq"]["additionalConfig"])
    assert conf["default_queue_type"] == "quorum"
    assert conf["default_vhost"] == "ceres"


# ---------------------------------------------------------------------------
# Docker Compose
# ---------------------------------------------------------------------------
REQUIRED = "<required>"
_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str) -> str:
    """Compose variable substitution with an empty environment (defaults only)."""

    def substitute(match):
        name, operator, argument = match.groups()
        if operator in (":-", "-"):
            return argument
        if operator in (":?", "?"):
            return REQUIRED  # compose refuses to start without it
        raise AssertionError(f"${{{name}}} has no default value")

    return _INTERPOLATION.sub(substitute, value)


def published_ports(service: dict) -> set[int]:
    ports = set()
    for entry in service.get("ports", []):
        if isinstance(entry, dict):
            published = entry.get("published")
        else:
            fields = str(entry).split("/")[0].split(":")
            published = fields[-2] if len(fields) >= 2 else None
        if published:
            low, _, high = str(published).partition("-")
            ports.update(range(int(low), int(high or low) + 1))
    return ports


def depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on", {})
    if isinstance(deps, list):
        return {name: "service_started" for name in deps}
    return {name: (opts or {}).get("condition", "service_started") for name, opts in deps.items()}


def created_databases(sql: str) -> set[str]:
    return set(re.findall(r"CREATE\s+DATABASE\s+(\w+)", sql, flags=re.IGNORECASE))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_compose_services_have_buildable_images(compose):
    services = compose["services"]
    for svc in SERVICES:
        assert svc in services, f"no compose service {svc}"
    for name, service in services.items():
        assert "image" in service or "build" in service, name
        if "build" in service:
            build = service["build"]
            context = DEPLOY / (build if isinstance(build, str) else build.get("context", "."))
            dockerfile = context / (build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile")
            assert dockerfile.is_file(), f"{name}: {dockerfile} does not exist"
            assert context.resolve() == ROOT, f"{name}: build context must be the repository root"
        elif service["image"].startswith("ceres/"):
            pytest.fail(f"{name}: ceres images are not published, give it a build section")


def test_compose_dependencies(compose):
    services = compose["services"]
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        for target, condition in depends_on(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert condition in conditions, f"{name} -> {target}: {condition}"
            if condition == "service_healthy":
                healthcheck = services[target].get("healthcheck", {})
                has_check = "test" in healthcheck or services[target].get("image", "").startswith("ceres/")
                assert has_check and not healthcheck.get("disable"), f"{target} has no healthcheck"

    # No cycle (compose would refuse to start).
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        assert state.get(node) != "active", f"dependency cycle: {' -> '.join(trail + [node])}"
        if state.get(node) == "done":
            return
        state[node] = "active"
        for dep in depends_on(services[node]):
            visit(dep, trail + [node])
        state[node] = "done"

    for name in services:
        visit(name, [])


@pytest.mark.parametrize("svc", DB_SERVICES)
def test_compose_service_trio(svc, compose):
    services = compose["services"]
    web, worker, migrate = services[svc], services[f"{svc}-worker"], services[f"{svc}-migrate"]
    for service in (web, worker, migrate):
        assert service["image"] == f"ceres/{svc}:latest"
        env = {k: interpolate(str(v)) for k, v in service["environment"].items()}
        assert env["CERES_SERVICE"] == svc
        db = urlsplit(env["DATABASE_URL"])
        assert db.scheme == "postgresql+psycopg"
        assert db.hostname == "postgres" and db.port == 5432
        assert db.path == f"/ceres_{svc}"
        amqp = urlsplit(env["AMQP_URL"])
        assert amqp.scheme == "amqp" and amqp.hostname == "rabbitmq" and amqp.path == "/ceres"
        assert urlsplit(env["JWKS_URL"]).netloc == "identity:8000"
        assert env["AMQP_QUEUE_TYPE"] == "quorum"
        assert "CERES_SECRET_KEY" in env
    if svc == "identity":
        assert urlsplit(interpolate(web["environment"]["SMTP_URL"])).hostname == "mail"

    assert migrate["command"] == ["flask", "--app", f"ceres_{svc}.wsgi", "db-upgrade"]
    assert migrate["restart"] == "no"
    assert depends_on(migrate)["postgres"] == "service_healthy"
    assert worker["command"] == ["flask", "--app", f"ceres_{svc}.wsgi", "worker"]
    assert worker["healthcheck"]["test"] == ["CMD", "flask", "--app", f"ceres_{svc}.wsgi", "worker-health"]
    assert "command" not in web, "web runs the image's gunicorn command"
    assert "/readyz" in " ".join(web["healthcheck"]["test"])
    for service in (web, worker):
        deps = depends_on(service)
        assert deps[f"{svc}-migrate"] == "service_completed_successfully"
        assert deps["rabbitmq"] == "service_healthy"


def test_compose_identity_keys_survive_restarts(compose):
    """Identity keeps its signing keys under /app/var: a named volume, not a tmpfs."""
    services = compose["services"]
    for name in ("identity", "identity-worker", "identity-migrate"):
        service = services[name]
        assert "/app/var" not in service.get("tmpfs", []), name
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert mounts["/app/var"] in compose["volumes"], name


def test_compose_databases_exist_in_init_script(compose):
    databases = created_databases(INIT_SQL.read_text())
    assert databases == {f"ceres_{svc}" for svc in DB_SERVICES}
    assert re.search(r"CREATE\s+ROLE\s+ceres\b", INIT_SQL.read_text(), flags=re.IGNORECASE)
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:16")
    mounts = {v.split(":")[1]: v.split(":")[0] for v in postgres["volumes"]}
    assert (DEPLOY / mounts["/docker-entrypoint-initdb.d"] / INIT_SQL.name).is_file()


def test_compose_infrastructure(compose):
    services = compose["services"]
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3.13-management")
    assert services["rabbitmq"]["environment"]["RABBITMQ_DEFAULT_VHOST"] == "ceres"
    assert services["mail"]["image"].startswith("axllent/mailpit")
    # Same broker semantics as the RabbitmqCluster: quorum queues by default.
    config_names = [c["source"] for c in services["rabbitmq"]["configs"]]
    contents = "\n".join(compose["configs"][name]["content"] for name in config_names)
    assert rabbitmq_conf(contents)["default_queue_type"] == "quorum"


def test_compose_only_gateway_published_on_8000(compose):
    publishers = [name for name, s in compose["services"].items() if WEB_PORT in published_ports(s)]
    assert publishers == ["gateway"]


def test_compose_gateway_upstreams(compose):
    services = compose["services"]
    gateway = services["gateway"]
    env = {k: interpolate(str(v)) for k, v in gateway["environment"].items()}
    for svc in DB_SERVICES:
        url = urlsplit(env[f"SERVICE_URL_{svc.upper()}"])
        assert url.hostname == svc and url.hostname in services
        assert url.port == WEB_PORT
    assert "DATABASE_URL" not in env and "AMQP_URL" not in env
    assert not [n for n in services if n.startswith("gateway-")], "gateway has no worker/migrations"


def test_compose_secrets_come_from_environment(compose):
    for name, service in compose["services"].items():
        environment = service.get("environment", {})
        for key in ("CERES_SECRET_KEY", "POSTGRES_PASSWORD", "RABBITMQ_DEFAULT_PASS"):
            if key in environment:
                assert str(environment[key]).startswith("${"), f"{name}.{key} is hard-coded"


# ---------------------------------------------------------------------------
# Dockerfiles and .dockerignore
# ---------------------------------------------------------------------------
def parse_dockerfile(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined."""
    instructions, buffer = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and buffer):
            continue  # comments, and blank lines inside a continuation
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            keyword, _, arguments = buffer.strip().partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
        buffer = ""
    assert not buffer, f"{path}: dangling line continuation"
    return instructions


def dockerfile_env(stage) -> dict[str, str]:
    env = {}
    for keyword, arguments in stage:
        if keyword == "ENV":
            for item in shlex.split(arguments):
                name, _, value = item.partition("=")
                env[name] = value
    return env


def stages(instructions):
    result = []
    for keyword, arguments in instructions:
        if keyword == "FROM":
            result.append([])
        assert result, "instruction before FROM"
        result[-1].append((keyword, arguments))
    return result


def copy_sources(arguments: str) -> list[str] | None:
    """Sources of a COPY from the build context (None for COPY --from=...)."""
    tokens = json.loads(arguments) if arguments.startswith("[") else shlex.split(arguments)
    flags = [t for t in tokens if t.startswith("--")]
    if any(f.startswith("--from") for f in flags):
        return None
    return [t for t in tokens if not t.startswith("--")][:-1]


def dockerignore_patterns() -> list[tuple[bool, str]]:
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            patterns.append((negated, line.lstrip("!").strip("/")))
    return patterns


def _pattern_regex(pattern: str) -> re.Pattern:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out + r"\Z")


def dockerignored(relpath: str) -> bool:
    """Docker semantics: the last matching pattern wins; a pattern also matches parents."""
    parts = relpath.strip("/").split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    ignored = False
    for negated, pattern in dockerignore_patterns():
        regex = _pattern_regex(pattern)
        if any(regex.match(c) for c in candidates):
            ignored = not negated
    return ignored


@pytest.mark.parametrize("svc", SERVICES)
def test_dockerfile(svc):
    path = ROOT / "services" / svc / "Dockerfile"
    assert path.is_file()
    instructions = parse_dockerfile(path)
    all_stages = stages(instructions)
    names = []
    for stage in all_stages:
        base, *alias = stage[0][1].split()
        # Every stage starts from python:3.11-slim, directly or through an earlier stage.
        assert base == "python:3.11-slim" or base in names, stage[0]
        names.append(alias[-1] if alias else base)
    final = all_stages[-1]
    env = dockerfile_env(final)

    def last(keyword):
        values = [args for kw, args in final if kw == keyword]
        assert values, f"{svc}: no {keyword} in the final stage"
        return values[-1]

    user = last("USER").split(":")[0]
    assert user not in ("root", "0", ""), f"{svc} runs as root"
    assert "8000" in last("EXPOSE").split()
    healthcheck = last("HEALTHCHECK")
    assert "/healthz" in healthcheck and "curl" not in healthcheck
    assert json.loads(last("CMD")) == GUNICORN_CMD.format(svc=svc).split()
    # An init as PID 1 forwards SIGTERM; Kubernetes pods therefore only override args.
    assert json.loads(last("ENTRYPOINT"))[0] == "tini"

    # COPY sources exist in the repository and survive .dockerignore.
    copied = []
    for keyword, arguments in instructions:
        if keyword in ("COPY", "ADD"):
            sources = copy_sources(arguments)
            if sources is not None:
                copied += sources
    expected = {"requirements.txt", "shared/", f"services/{svc}/", "deploy/gunicorn.conf.py"}
    assert expected <= set(copied), f"{svc} copies {copied}"
    for source in copied:
        assert (ROOT / source).exists(), f"{svc}: COPY {source} does not exist"
        assert not dockerignored(source), f"{svc}: COPY {source} is excluded by .dockerignore"
    assert any(
        kw == "COPY" and args.split()[-1] in ("/app/deploy/gunicorn.conf.py", "/app/deploy/")
        for kw, args in final
        if "gunicorn.conf.py" in args
    )

    # Runtime state goes where Kubernetes mounts an emptyDir and Compose a tmpfs/volume.
    assert env["CERES_VAR_DIR"] == "/app/var"
    assert env["CERES_SERVICE"] == svc

    runs = " ".join(args for kw, args in instructions if kw == "RUN")
    assert re.search(rf"pip install --no-cache-dir -r requirements\.txt \./shared \./services/{svc}\b", runs)
    apt = " ".join(args for kw, args in final if kw == "RUN" and "apt-get install" in args)
    installed = set(re.findall(r"[a-z0-9][a-z0-9.+-]+", apt))
    if svc in PDF_SERVICES:
        assert PANGO_PACKAGES <= installed, f"{svc} needs WeasyPrint's native libraries"
        assert any(p.startswith("fonts-") for p in installed), f"{svc} installs no font"
        # DSFR fonts are installed at build time, outside the volumes mounted at run time.
        fonts_dir = env["CERES_FONTS_DIR"]
        assert not fonts_dir.startswith(("/app/var", "/tmp"))
        assert re.search(rf"ceres_shared\.documents\.fonts install --dest {re.escape(fonts_dir)}\b", runs)
        assert any(kw == "COPY" and args.split()[-2:] == [fonts_dir, fonts_dir] for kw, args in final)
    else:
        assert not {p for p in installed if "pango" in p or p.startswith("fonts-")}, f"{svc} should stay slim"
        assert "CERES_FONTS_DIR" not in env and "documents.fonts" not in runs


# Services whose image carries data fetched from npm at build time: communes (C3) or the DSFR web assets.
DATA_SERVICES = ("establishments", "candidates", "gateway")


def test_data_stages_fetch_what_each_service_needs():
    for svc in DATA_SERVICES:
        text = (ROOT / "services" / svc / "Dockerfile").read_text()
        needed = "ceres_gateway.web.assets install" if svc == "gateway" else "ceres_shared.communes build"
        assert needed in text, svc
        assert "FROM build AS data" in text and "COPY --from=data" in text, svc


def test_dockerfiles_share_their_common_layers():
    """Same steps in the same order, so that the dependency layers are cached once."""

    def normalised(svc):
        instructions = parse_dockerfile(ROOT / "services" / svc / "Dockerfile")
        text = [(kw, args.replace(svc, "<svc>")) for kw, args in instructions]
        return stages(text)

    def runtime_skeleton(stage):
        # Only the apt-get package list, the PDF fonts and the npm data (communes, web assets) may differ.
        fonts = ("--from=fonts", "CERES_FONTS_DIR=", "--from=data", "CERES_COMMUNES_DIR=", "CERES_WEB_ASSETS_DIR=")
        return [
            (kw, "<apt>" if "apt-get install" in args else args)
            for kw, args in stage
            if not any(marker in args for marker in fonts)
        ]

    def extra_stages(svc):
        return (svc in PDF_SERVICES) + (svc in DATA_SERVICES)

    reference = normalised(SERVICES[0])
    for svc in SERVICES[1:]:
        current = normalised(svc)
        assert current[0] == reference[0], f"{svc}: build stage differs"
        assert len(current) - extra_stages(svc) == len(reference) - extra_stages(SERVICES[0])
        assert runtime_skeleton(current[-1]) == runtime_skeleton(reference[-1]), f"{svc}: runtime stage differs"
    # Dependencies are installed before the service code is copied.
    build = reference[0]
    first_install = next(i for i, (kw, a) in enumerate(build) if kw == "RUN" and "requirements.txt" in a)
    first_code = next(i for i, (kw, a) in enumerate(build) if kw == "COPY" and "services/" in a)
    assert first_install < first_code


def test_dockerignore_keeps_context_small_but_complete():
    for path in (".git/HEAD", ".venv/bin/python", "tests/test_deploy.py", "bench/run.py",
                 "services/sessions/ceres_sessions/__pycache__/app.cpython-311.pyc",
                 "deploy/compose.yaml", "deploy/k8s/gateway.yaml"):
        assert dockerignored(path), f"{path} should not be sent to the daemon"
    for path in ("requirements.txt", "shared/pyproject.toml", "shared/ceres_shared/__init__.py",
                 "services/printing/pyproject.toml", "services/printing/README.md",
                 "services/printing/ceres_printing/templates/base.html",
                 "services/identity/ceres_identity/migrations/env.py", "deploy/gunicorn.conf.py"):
        assert not dockerignored(path), f"{path} is needed by the image build"


class _ProbeHandler(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status, healthy", [(200, True), (503, False)])
def test_dockerfile_healthcheck_command_works(status, healthy):
    """Run the HEALTHCHECK command of an image against a fake /healthz."""
    instructions = parse_dockerfile(ROOT / "services" / "gateway" / "Dockerfile")
    healthcheck = [args for kw, args in instructions if kw == "HEALTHCHECK"][-1]
    command = json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())
    assert command[0] == "python"
    handler = type("Handler", (_ProbeHandler,), {"status": status})
    server = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        result = subprocess.run(
            [sys.executable, *command[1:]],
            env={"PORT": str(server.server_address[1])},
            capture_output=True,
            timeout=10,
        )
    finally:
        server.shutdown()
        server.server_close()
    assert (result.returncode == 0) is healthy, result.stderr.decode()


# ---------------------------------------------------------------------------
# Gunicorn settings
# ---------------------------------------------------------------------------
def load_gunicorn_conf(monkeypatch, **env) -> dict:
    names = ("PORT", "GUNICORN_WORKERS", "GUNICORN_THREADS", "GUNICORN_ACCESSLOG", "FORWARDED_ALLOW_IPS", "LOG_LEVEL",
             "CERES_SERVICE", "DATABASE_URL", "AMQP_URL", "CERES_DEMO_PUBLIC")
    for name in names:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_conf_reads_port_and_workers(monkeypatch):
    conf = load_gunicorn_conf(monkeypatch, PORT="9123", GUNICORN_WORKERS="3")
    assert conf["bind"] == "0.0.0.0:9123"
    assert conf["workers"] == 3

    conf = load_gunicorn_conf(monkeypatch)
    assert conf["bind"] == "0.0.0.0:8000"
    assert 1 <= conf["workers"] <= 4
    assert conf["worker_class"] == "gthread"
    assert conf["threads"] == 4
    assert conf["max_requests"] > 0 and 0 < conf["max_requests_jitter"] < conf["max_requests"]
    assert 0 < conf["graceful_timeout"] and conf["timeout"] > 0
    assert conf["accesslog"] == "-" and conf["errorlog"] == "-"
    assert conf["forwarded_allow_ips"]


def test_gunicorn_conf_only_uses_known_settings(monkeypatch):
    """Gunicorn silently ignores unknown names: catch typos such as `max_request`."""
    from gunicorn.config import Config

    conf = load_gunicorn_conf(monkeypatch)
    cfg = Config()
    public = {k: v for k, v in conf.items() if not k.startswith("_") and not isinstance(v, type(sys))}
    for name, value in public.items():
        assert name in cfg.settings, f"{name} is not a gunicorn setting"
        cfg.set(name, value)  # runs gunicorn's own validators
    assert cfg.worker_class_str == "gthread"
    assert cfg.address == [("0.0.0.0", 8000)]


def test_gunicorn_access_log_is_json(monkeypatch):
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    conf = load_gunicorn_conf(monkeypatch)
    cfg = Config()
    cfg.set("access_log_format", conf["access_log_format"])
    logger = Logger(cfg)

    class Response:
        status = "201 CREATED"
        sent = 42
        headers = [("Content-Type", "application/json")]

    class Request:
        headers = [("X-REQUEST-ID", "abc-123"), ("USER-AGENT", "pytest")]

    environ = {
        "REQUEST_METHOD": "POST", "RAW_URI": "/api/sessions?x=1", "PATH_INFO": "/api/sessions",
        "QUERY_STRING": "x=1", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.7",
        "HTTP_USER_AGENT": "pytest",
    }
    atoms = logger.atoms(Response(), Request(), environ, datetime.timedelta(milliseconds=12))
    record = json.loads(conf["access_log_format"] % logger.atoms_wrapper_class(atoms))
    assert record["status"] == 201
    assert record["path"] == "/api/sessions"
    assert record["request_id"] == "abc-123"
    assert record["duration_ms"] == 12


# ---------------------------------------------------------------------------
# Issue 12: who reaches the pods (M2), metrics with a token (M5), no placeholder secret (M6)
# ---------------------------------------------------------------------------
PROMETHEUS_FILE = DEPLOY / "prometheus" / "scrape-ceres.yaml"
INGRESS_NAMESPACE = {"kubernetes.io/metadata.name": "ingress-nginx"}
INGRESS_POD = {"app.kubernetes.io/name": "ingress-nginx"}


def pod_labels(objects: list[dict], name: str) -> dict:
    return find(objects, "Deployment", name)["spec"]["template"]["metadata"]["labels"]


def matches(selector: dict | None, labels: dict) -> bool:
    """A NetworkPolicy label selector (matchLabels only; {} selects everything)."""
    assert not (selector or {}).get("matchExpressions"), "keep the selectors to matchLabels"
    return all(labels.get(k) == v for k, v in (selector or {}).get("matchLabels", {}).items())


def admits(objects: list[dict], target: dict, source: dict, namespace: dict, port: int) -> bool:
    """Whether the NetworkPolicies of the ceres namespace let a pod labelled `source`, in a namespace labelled
    `namespace`, open `port` on a pod labelled `target` (a pod no policy selects accepts everything)."""
    policies = [o for o in objects if o["kind"] == "NetworkPolicy" and matches(o["spec"]["podSelector"], target)
                and "Ingress" in o["spec"].get("policyTypes", ["Ingress"])]
    if not policies:
        return True
    for policy in policies:
        for rule in policy["spec"].get("ingress", []):
            ports = [resolve_port({"containers": [{"ports": [{"name": "http", "containerPort": WEB_PORT}]}]},
                                  p["port"]) for p in rule.get("ports", [])]
            if ports and port not in ports:
                continue
            for peer in rule.get("from", []):
                assert "ipBlock" not in peer
                in_namespace = (matches(peer["namespaceSelector"], namespace) if "namespaceSelector" in peer
                                else namespace.get("kubernetes.io/metadata.name") == NAMESPACE)
                if in_namespace and matches(peer.get("podSelector"), source):
                    return True
    return False


def test_network_policies_let_only_the_gateway_and_own_worker_reach_a_service(k8s_objects):
    ceres = {"kubernetes.io/metadata.name": NAMESPACE}
    gateway = pod_labels(k8s_objects, "gateway-web")
    for svc in DB_SERVICES:
        web = pod_labels(k8s_objects, f"{svc}-web")
        assert admits(k8s_objects, web, gateway, ceres, WEB_PORT), svc
        assert admits(k8s_objects, web, pod_labels(k8s_objects, f"{svc}-worker"), ceres, WEB_PORT), svc
        assert not admits(k8s_objects, web, gateway, ceres, 5432), f"{svc}: only the http port"
        assert not admits(k8s_objects, web, INGRESS_POD, INGRESS_NAMESPACE, WEB_PORT), f"{svc} behind the ingress"
        assert not admits(k8s_objects, web, {"app": "anything"}, {"kubernetes.io/metadata.name": "other"},
                          WEB_PORT), f"{svc} from another namespace"
        assert not admits(k8s_objects, web, {"app": "debug"}, ceres, WEB_PORT), f"{svc}: an unknown pod of ceres"
        for other in DB_SERVICES:
            if other != svc and svc != "identity":  # identity serves its public keys to every CERES pod
                for part in ("web", "worker"):
                    assert not admits(k8s_objects, web, pod_labels(k8s_objects, f"{other}-{part}"), ceres,
                                      WEB_PORT), f"{other}-{part} -> {svc}"
    identity = pod_labels(k8s_objects, "identity-web")
    for svc in DB_SERVICES:
        assert admits(k8s_objects, identity, pod_labels(k8s_objects, f"{svc}-worker"), ceres, WEB_PORT), "JWKS"


def test_network_policies_let_only_the_ingress_reach_the_gateway_and_prometheus_scrape(k8s_objects):
    ceres = {"kubernetes.io/metadata.name": NAMESPACE}
    monitoring, prometheus = {"kubernetes.io/metadata.name": "monitoring"}, {"app.kubernetes.io/name": "prometheus"}
    gateway = pod_labels(k8s_objects, "gateway-web")
    assert admits(k8s_objects, gateway, INGRESS_POD, INGRESS_NAMESPACE, WEB_PORT)
    assert not admits(k8s_objects, gateway, pod_labels(k8s_objects, "sessions-worker"), ceres, WEB_PORT)
    assert not admits(k8s_objects, gateway, {"app": "x"}, {"kubernetes.io/metadata.name": "other"}, WEB_PORT)
    for svc in SERVICES:
        assert admits(k8s_objects, pod_labels(k8s_objects, f"{svc}-web"), prometheus, monitoring, WEB_PORT), svc
    selected = [o["spec"]["podSelector"] for o in k8s_objects if o["kind"] == "NetworkPolicy"]
    for deployment in (o for o in k8s_objects if o["kind"] == "Deployment" and any(
            c.get("ports") for c in pod_spec(o)["containers"])):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(matches(s, labels) for s in selected), f"{deployment['metadata']['name']} has no policy"


def test_gateway_trusts_the_ingress_alone_for_the_client_address(k8s_objects):
    for svc in SERVICES:
        (web,) = [c for c in pod_spec(find(k8s_objects, "Deployment", f"{svc}-web"))["containers"]
                  if c["name"] == "web"]
        env = {e["name"]: e.get("value") for e in web.get("env", [])}
        keys = check_env(web, svc, k8s_objects)
        assert env.get("CERES_TRUSTED_PROXIES") == ("1" if svc == "gateway" else None), svc
        assert "CERES_TRUSTED_PROXIES" not in find(k8s_objects, "ConfigMap", "ceres-config")["data"]
        assert "CERES_METRICS_TOKEN" in keys, f"{svc}: /metrics needs the token"


def test_prometheus_scrapes_the_web_pods_with_the_metrics_token(k8s_objects):
    (job,) = yaml.safe_load(PROMETHEUS_FILE.read_text())["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["type"] == "Bearer" and job["authorization"]["credentials_file"]
    (discovery,) = job["kubernetes_sd_configs"]
    assert discovery["role"] == "pod" and discovery["namespaces"]["names"] == [NAMESPACE]
    keep = {tuple(r["source_labels"]): r["regex"] for r in job["relabel_configs"] if r.get("action") == "keep"}
    assert keep[("__meta_kubernetes_pod_label_app_kubernetes_io_part_of",)] == "ceres"
    assert keep[("__meta_kubernetes_pod_label_app_kubernetes_io_component",)] == "web"
    assert keep[("__meta_kubernetes_pod_container_port_name",)] == "http"
    for svc in SERVICES:
        deployment = find(k8s_objects, "Deployment", f"{svc}-web")
        assert deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] == "web"
        # No annotation-based scraping: a generic job would come without the token and read 404s.
        assert "prometheus.io/scrape" not in deployment["spec"]["template"]["metadata"].get("annotations", {})


def test_placeholder_secrets_cannot_start_a_service(k8s_objects, compose):
    """CHANGE_ME and the compose file's former default are refused by every service at start (M6)."""
    from ceres_shared.config import weak_secret_reason

    common = find(k8s_objects, "Secret", "ceres-common")["stringData"]
    assert weak_secret_reason(common["CERES_SECRET_KEY"]) is not None
    assert weak_secret_reason("dev-only-insecure-secret-key") is not None
    for name, service in compose["services"].items():
        if "CERES_SECRET_KEY" in service.get("environment", {}):
            assert interpolate(str(service["environment"]["CERES_SECRET_KEY"])) == REQUIRED, name


def test_gunicorn_refuses_an_embedded_service_on_every_interface_m7(monkeypatch):
    """A service image started without DATABASE_URL/AMQP_URL would serve embedded mode (demo tokens) on 0.0.0.0."""
    with pytest.raises(RuntimeError, match="CERES_DEMO_PUBLIC=1"):
        load_gunicorn_conf(monkeypatch, CERES_SERVICE="identity")
    with pytest.raises(RuntimeError):
        load_gunicorn_conf(monkeypatch, CERES_SERVICE="sessions", DATABASE_URL="postgresql+psycopg://db/x")
    production = {"DATABASE_URL": "postgresql+psycopg://db/x", "AMQP_URL": "amqp://broker/ceres"}
    assert load_gunicorn_conf(monkeypatch, CERES_SERVICE="identity", **production)["bind"] == "0.0.0.0:8000"
    assert load_gunicorn_conf(monkeypatch, CERES_SERVICE="gateway")["bind"] == "0.0.0.0:8000"
    assert load_gunicorn_conf(monkeypatch, CERES_SERVICE="identity", CERES_DEMO_PUBLIC="1")["bind"]
