#!/usr/bin/env python3
# ============================================================================================
#  kube-apiserver STAND-IN for eksbox's tests and local demo -- NOT a Kubernetes API server.
#  Runs on the host. It answers just enough of the API for the real kubectl (1.20) to run
#  `kubectl get nodes [-l selector] [-o json]`: discovery, and Nodes derived from moto's state
#  (DesiredCapacity Ready nodes per nodegroup of every cluster the eksctl test double made).
#  Karpenter's nodes: one Ready Node per running EC2 instance tagged karpenter.sh/nodepool and
#  kubernetes.io/cluster/<name> (the tags real Karpenter puts on what it launches), labelled
#  karpenter.sh/nodepool=<pool>. The stand-in launches nothing itself (no Karpenter controller runs):
#  a test plays Karpenter by launching such an instance with the real AWS CLI, and every such
#  instance counts as Ready at once (no kubelet joins).
#  EKS Auto Mode's nodes: the same, per running instance tagged eks:eks-cluster-name=<name> and
#  eks:kubernetes-node-pool-name=<pool> (the tags Auto Mode puts on its instances), labelled
#  eks.amazonaws.com/compute-type=auto and karpenter.sh/nodepool=<pool>; a test plays Auto Mode.
#  Karpenter's NodePool (karpenter.sh/v1) and EC2NodeClass (karpenter.k8s.aws/v1), cluster-scoped:
#  `kubectl apply --server-side` (PATCH application/apply-patch+yaml), `kubectl get` and `kubectl
#  delete` of them (gone at once: no finalizers, and no Karpenter to terminate the NodePool's nodes).
#  Flux's GitRepository (source.toolkit.fluxcd.io/v1) and Kustomization (kustomize.toolkit.fluxcd.io/v1),
#  namespaced: the flux double applies them on `flux bootstrap` and deletes them on `flux uninstall`
#  as real flux leaves them, eksbox reads them with `kubectl get`. They are kept per cluster: each
#  cluster's server is <url>/clusters/<region>/<name>, a prefix this server strips (kubectl sends no
#  token over plain http, so the token cannot tell them apart). At start it tells the EKS stand-in in
#  front of moto its URL, and describe-cluster gives that server as the cluster's endpoint, as EKS
#  gives the endpoint the kubeconfig names.
#  Where it departs from a real API server: these objects live in this process's memory only (one
#  store for every cluster but Flux's, gone when it stops); an apply replaces the whole object instead of
#  merging fields by manager (managedFields only names the last manager); no CRD schema is
#  checked (eksbox checks them against Karpenter's schemas before applying); /openapi/v2 is an
#  empty document, so kubectl's client-side validation knows no kind and checks nothing.
#  Usage: kube-apiserver.py MOTO_URL [--port N] [--regions r1,r2] [--url-file PATH]
# ============================================================================================
import argparse
import datetime
import hashlib
import json
import os
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse
from urllib.request import Request, urlopen

sys.dont_write_bytecode = True  # keep test/doubles/ free of __pycache__ when run from the repository
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

KUBE_VERSION = {"major": "1", "minor": "34", "gitVersion": "v1.34.0-eks-testdouble", "platform": "linux/amd64"}
NODE_RESOURCE = {
    "name": "nodes", "singularName": "", "namespaced": False, "kind": "Node",
    "verbs": ["get", "list"], "shortNames": ["no"],
}
_moto_lock = threading.Lock()  # botocore clients are shared: one moto scan at a time
# (group, version) -> {resource: (kind, singular)}: the custom resources the stand-in stores.
CUSTOM_RESOURCES = {
    ("karpenter.sh", "v1"): {"nodepools": ("NodePool", "nodepool")},
    ("karpenter.k8s.aws", "v1"): {"ec2nodeclasses": ("EC2NodeClass", "ec2nodeclass")},
    ("source.toolkit.fluxcd.io", "v1"): {"gitrepositories": ("GitRepository", "gitrepository")},
    ("kustomize.toolkit.fluxcd.io", "v1"): {"kustomizations": ("Kustomization", "kustomization")},
}
# Namespaced, and kept per cluster (by the kubeconfig's token): what flux bootstrap leaves in flux-system.
NAMESPACED = {"gitrepositories", "kustomizations"}
_store_lock = threading.Lock()
_store: dict = {}  # (group, version, resource) -> {name: object}
_resource_version = [1]


def _regions(arg):
    if arg:
        return [r for r in arg.split(",") if r]
    import botocore.session

    return botocore.session.get_session().get_available_regions("eks")


def nodes_from_moto(regions: list) -> list:
    from eksctl_state import list_clusters, nodegroups

    nodes = []
    with _moto_lock:
        for region in regions:
            for cluster in list_clusters(region):
                for ng in nodegroups(region, cluster):
                    nodes += [_node(region, cluster, ng, i) for i in range(ng["DesiredCapacity"])]
            nodes += _karpenter_nodes(region)
            nodes += _auto_mode_nodes(region)
    return nodes


def _auto_mode_nodes(region: str) -> list:
    """A Node per running instance that EKS Auto Mode (or a test playing it) launched for one of its node pools."""
    from doublelib import client

    nodes = []
    pages = client("ec2", region).get_paginator("describe_instances").paginate(
        Filters=[{"Name": "tag-key", "Values": ["eks:kubernetes-node-pool-name"]}, {"Name": "instance-state-name", "Values": ["running"]}])
    for page in pages:
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                cluster = tags.get("eks:eks-cluster-name")
                if not cluster:
                    continue
                pool = tags["eks:kubernetes-node-pool-name"]
                ng = {
                    "Name": pool, "InstanceType": instance.get("InstanceType", "m5.large"), "NodeGroupType": "auto",
                    "Labels": {"eks.amazonaws.com/compute-type": "auto", "karpenter.sh/nodepool": pool, "karpenter.sh/registered": "true"},
                    "CreationTime": instance["LaunchTime"].strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": KUBE_VERSION["minor"],
                }
                node = _node(region, cluster, ng, 0, instance_id=instance["InstanceId"])
                del node["metadata"]["labels"]["alpha.eksctl.io/nodegroup-name"]
                nodes.append(node)
    return nodes


def _karpenter_nodes(region: str) -> list:
    """A Node per running instance that Karpenter (or a test playing it) launched for a NodePool."""
    from doublelib import client

    nodes = []
    pages = client("ec2", region).get_paginator("describe_instances").paginate(
        Filters=[{"Name": "tag-key", "Values": ["karpenter.sh/nodepool"]}, {"Name": "instance-state-name", "Values": ["running"]}])
    for page in pages:
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                cluster = next((k.split("/", 2)[2] for k in tags if k.startswith("kubernetes.io/cluster/")), None)
                if cluster is None:
                    continue
                ng = {
                    "Name": tags["karpenter.sh/nodepool"], "InstanceType": instance.get("InstanceType", "m5.large"),
                    "NodeGroupType": "karpenter", "Labels": {"karpenter.sh/nodepool": tags["karpenter.sh/nodepool"],
                                                             "karpenter.sh/registered": "true"},
                    "CreationTime": instance["LaunchTime"].strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": KUBE_VERSION["minor"],
                }
                node = _node(region, cluster, ng, 0, instance_id=instance["InstanceId"])
                del node["metadata"]["labels"]["alpha.eksctl.io/nodegroup-name"]
                nodes.append(node)
    return nodes


def _node(region: str, cluster: str, ng: dict, index: int, instance_id: str = "") -> dict:
    digest = hashlib.sha1(f"{region}/{cluster}/{ng['Name']}/{index}{'/' + instance_id if instance_id else ''}".encode()).digest()
    ip = f"10.{digest[0]}.{digest[1]}.{digest[2] or 1}"
    name = f"ip-{ip.replace('.', '-')}.{region}.compute.internal"
    instance_type = ng["InstanceType"].split(",")[0]
    labels = {
        "alpha.eksctl.io/cluster-name": cluster,
        "alpha.eksctl.io/nodegroup-name": ng["Name"],
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": instance_type,
        "eksbox-test-double/stand-in": "true",
        **({"eks.amazonaws.com/nodegroup": ng["Name"]} if ng["NodeGroupType"] == "managed" else {}),
        **ng.get("Labels", {}),
    }
    created = ng["CreationTime"]
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "uid": hashlib.md5(name.encode()).hexdigest(),
            "resourceVersion": "1",
            "creationTimestamp": created,
            "labels": labels,
        },
        "spec": {
            "providerID": f"aws:///{region}/{instance_id or 'i-' + digest.hex()[:17]}",
            **({"taints": ng["Taints"]} if ng.get("Taints") else {}),
        },
        "status": {
            "conditions": [{
                "type": "Ready", "status": "True", "reason": "KubeletReady",
                "message": "kubelet is posting ready status (kube-apiserver stand-in)",
                "lastHeartbeatTime": created, "lastTransitionTime": created,
            }],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "nodeInfo": {
                "kubeletVersion": f"v{ng['Version']}.0-eks-testdouble", "osImage": "Amazon Linux 2023 (stand-in)",
                "containerRuntimeVersion": "containerd://1.7.0", "architecture": "amd64", "operatingSystem": "linux",
                "kernelVersion": "6.1.0", "kubeProxyVersion": f"v{ng['Version']}.0", "machineID": "", "systemUUID": "",
                "bootID": "",
            },
        },
    }


_CLUSTER_PREFIX = re.compile(r"^/clusters/([^/?]+/[^/?]+)(?=/|\?|$)")
_REQUIREMENT = re.compile(r"^\s*(!)?\s*([\w./-]+)\s*(?:(==|=|!=)\s*([\w./-]*)|\s+(in|notin)\s*\(([^)]*)\))?\s*$")


def parse_selector(selector: str) -> list:
    """Kubernetes label selector: k=v, k==v, k!=v, k in (a,b), k notin (a,b), k, !k."""
    parts, depth, current = [], 0, ""
    for char in selector:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    requirements = []
    for part in filter(str.strip, parts):
        match = _REQUIREMENT.match(part)
        if not match:
            raise ValueError(f"unable to parse requirement: {part!r}")
        negate, key, op, value, set_op, values = match.groups()
        if negate:
            requirements.append((key, "!exists", None))
        elif op:
            requirements.append((key, "!=" if op == "!=" else "=", value))
        elif set_op:
            requirements.append((key, set_op, {v.strip() for v in values.split(",") if v.strip()}))
        else:
            requirements.append((key, "exists", None))
    return requirements


def matches(labels: dict, requirements: list) -> bool:
    for key, op, value in requirements:
        present, actual = key in labels, labels.get(key)
        # Lazily: a set operation's value is a set, an equality's a string (`None in "auto"` would raise).
        ok = {
            "=": lambda: present and actual == value,
            "!=": lambda: actual != value,
            "in": lambda: present and actual in (value or ()),
            "notin": lambda: not present or actual not in (value or ()),
            "exists": lambda: present,
            "!exists": lambda: not present,
        }[op]()
        if not ok:
            return False
    return True


def _age(created: str) -> str:
    try:
        then = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
        seconds = int((datetime.datetime.now(datetime.timezone.utc) - then).total_seconds())
    except ValueError:
        return "<unknown>"
    return f"{seconds // 60}m" if seconds >= 60 else f"{max(seconds, 0)}s"


def as_table(nodes: list) -> dict:
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": "1"},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0},
            {"name": "Status", "type": "string", "format": "", "description": "", "priority": 0},
            {"name": "Roles", "type": "string", "format": "", "description": "", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": "", "priority": 0},
            {"name": "Version", "type": "string", "format": "", "description": "", "priority": 0},
        ],
        "rows": [
            {
                "cells": [n["metadata"]["name"], "Ready", "<none>", _age(n["metadata"]["creationTimestamp"]),
                          n["status"]["nodeInfo"]["kubeletVersion"]],
                "object": n,
            }
            for n in nodes
        ],
    }


class Handler(BaseHTTPRequestHandler):
    regions: list = []

    def log_message(self, fmt, *args):  # quiet unless asked: tests read stdout for the URL only
        if os.environ.get("EKSBOX_TEST_KUBE_API_VERBOSE"):
            sys.stderr.write("kube-apiserver stand-in: " + (fmt % args) + "\n")

    def send_json(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def status(self, code: int, reason: str, message: str) -> None:
        self.send_json(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": message, "reason": reason, "code": code})

    def route(self) -> None:
        """Strips the /clusters/<region>/<name> prefix of a cluster's kubeconfig server, remembering it."""
        match = _CLUSTER_PREFIX.match(self.path)
        self.cluster_scope = match.group(1) if match else ""
        if match:
            self.path = self.path[match.end():] or "/"

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.route()
        url = urlparse(self.path)
        path, query = url.path.rstrip("/") or "/", parse_qs(url.query)
        if path in ("/healthz", "/readyz", "/livez"):
            data = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(data)
        elif path == "/version":
            self.send_json(200, KUBE_VERSION)
        elif path == "/api":
            self.send_json(200, {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": self.headers.get("Host", "")}]})
        elif path == "/apis":
            self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
                {"name": group, "versions": [{"groupVersion": f"{group}/{version}", "version": version}],
                 "preferredVersion": {"groupVersion": f"{group}/{version}", "version": version}}
                for group, version in CUSTOM_RESOURCES]})
        elif path == "/openapi/v2":
            # An empty protobuf Document: kubectl parses it and validates no kind client-side. (Go's
            # mime parser refuses the real server's "...spec.v2@v1.0+protobuf" type in a response.)
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.custom_target(path) is not None:
            self.custom_get(path, query)
        elif path == "/api/v1":
            self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": [NODE_RESOURCE]})
        elif path == "/api/v1/nodes" or path.startswith("/api/v1/nodes/"):
            self.nodes(path, query)
        else:
            self.status(404, "NotFound", f"the kube-apiserver stand-in does not serve {path}")

    def custom_target(self, path: str):
        """(group, version, resource or None, name or None) for a path under a custom group-version;
        self.scope is where a namespaced resource's objects are kept (cluster, namespace)."""
        parts = path.strip("/").split("/")
        if len(parts) < 3 or parts[0] != "apis" or (parts[1], parts[2]) not in CUSTOM_RESOURCES:
            return None
        resources = CUSTOM_RESOURCES[(parts[1], parts[2])]
        self.scope = ()
        if len(parts) == 3:
            return (parts[1], parts[2], None, None)
        if len(parts) >= 6 and parts[3] == "namespaces" and parts[5] in NAMESPACED:
            self.scope = (self.cluster_scope, parts[4])
            parts = parts[:3] + parts[5:]
        elif len(parts) > 3 and parts[3] in NAMESPACED:
            return None  # every namespace at once: not served
        if parts[3] not in resources or len(parts) > 5:
            return None
        return (parts[1], parts[2], parts[3], parts[4] if len(parts) == 5 else None)

    def custom_get(self, path: str, query: dict) -> None:
        group, version, resource, name = self.custom_target(path)
        if resource is None:
            return self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{group}/{version}", "resources": [
                {"name": r, "singularName": singular, "namespaced": r in NAMESPACED, "kind": kind,
                 "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}
                for r, (kind, singular) in CUSTOM_RESOURCES[(group, version)].items()]})
        kind = CUSTOM_RESOURCES[(group, version)][resource][0]
        with _store_lock:
            stored = dict(_store.get((group, version, resource, *self.scope), {}))
        if name is not None:
            if name not in stored:
                return self.status(404, "NotFound", f'{resource}.{group} "{name}" not found')
            return self.send_json(200, stored[name])
        try:
            requirements = parse_selector(query.get("labelSelector", [""])[0])
        except ValueError as e:
            return self.status(400, "BadRequest", str(e))
        items = [o for o in stored.values() if matches(o["metadata"].get("labels", {}), requirements)]
        if "as=Table" in self.headers.get("Accept", ""):
            return self.send_json(200, {
                "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {"resourceVersion": str(_resource_version[0])},
                "columnDefinitions": [{"name": "Name", "type": "string", "format": "name", "description": "", "priority": 0}],
                "rows": [{"cells": [o["metadata"]["name"]], "object": o} for o in items]})
        self.send_json(200, {"kind": f"{kind}List", "apiVersion": f"{group}/{version}",
                             "metadata": {"resourceVersion": str(_resource_version[0])}, "items": items})

    def do_PATCH(self):  # noqa: N802
        self.route()
        url = urlparse(self.path)
        path, query = url.path.rstrip("/"), parse_qs(url.query)
        target = self.custom_target(path)
        if target is None or target[2] is None or target[3] is None:
            return self.status(404, "NotFound", f"the kube-apiserver stand-in does not serve PATCH {path}")
        group, version, resource, name = target
        content_type = self.headers.get("Content-Type", "")
        if not content_type.startswith("application/apply-patch+yaml"):
            return self.status(415, "UnsupportedMediaType", f"the stand-in takes server-side apply only, not {content_type}")
        if not query.get("fieldManager", [""])[0]:
            return self.status(422, "Invalid", "fieldManager is required for apply patch")
        body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
        try:
            import yaml  # PyYAML: a JSON body is YAML too

            obj = yaml.safe_load(body)
        except Exception as e:
            return self.status(400, "BadRequest", f"the body is not YAML: {e}")
        kind = CUSTOM_RESOURCES[(group, version)][resource][0]
        if not isinstance(obj, dict) or obj.get("kind") != kind or obj.get("apiVersion") != f"{group}/{version}":
            return self.status(400, "BadRequest", f"expected a {group}/{version} {kind}")
        if (obj.get("metadata") or {}).get("name") != name:
            return self.status(400, "BadRequest", "the name in the body does not match the URL")
        if self.scope and (obj.get("metadata") or {}).get("namespace", self.scope[1]) != self.scope[1]:
            return self.status(400, "BadRequest", "the namespace in the body does not match the URL")
        if self.scope:
            obj["metadata"]["namespace"] = self.scope[1]
        with _store_lock:
            objects = _store.setdefault((group, version, resource, *self.scope), {})
            existing = objects.get(name)
            _resource_version[0] += 1
            meta = obj.setdefault("metadata", {})
            meta["uid"] = existing["metadata"]["uid"] if existing else hashlib.md5(f"{group}/{resource}/{name}".encode()).hexdigest()
            meta["resourceVersion"] = str(_resource_version[0])
            meta["generation"] = (existing["metadata"].get("generation", 1) + 1) if existing else 1
            meta["creationTimestamp"] = existing["metadata"]["creationTimestamp"] if existing else datetime.datetime.now(
                datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            meta["managedFields"] = [{"manager": query["fieldManager"][0], "operation": "Apply", "apiVersion": f"{group}/{version}"}]
            objects[name] = obj
        self.send_json(200 if existing else 201, obj)

    def do_DELETE(self):  # noqa: N802
        self.route()
        path = urlparse(self.path).path.rstrip("/")
        target = self.custom_target(path)
        if target is None or target[2] is None or target[3] is None:
            return self.status(404, "NotFound", f"the kube-apiserver stand-in does not serve DELETE {path}")
        group, version, resource, name = target
        length = int(self.headers.get("Content-Length", "0") or 0)
        if length:
            self.rfile.read(length)  # DeleteOptions: nothing in them changes what the stand-in does
        with _store_lock:
            removed = _store.get((group, version, resource, *self.scope), {}).pop(name, None)
            _resource_version[0] += 1
        if removed is None:
            return self.status(404, "NotFound", f'{resource}.{group} "{name}" not found')
        self.send_json(200, removed)

    def nodes(self, path: str, query: dict) -> None:
        try:
            requirements = parse_selector(query.get("labelSelector", [""])[0])
        except ValueError as e:
            return self.status(400, "BadRequest", str(e))
        try:
            nodes = [n for n in nodes_from_moto(self.regions) if matches(n["metadata"]["labels"], requirements)]
        except Exception as e:  # moto unreachable: an API error kubectl prints, not a dropped connection
            return self.status(503, "ServiceUnavailable", f"reading moto: {e}")
        if path != "/api/v1/nodes":
            name = path.rsplit("/", 1)[1]
            found = [n for n in nodes if n["metadata"]["name"] == name]
            if not found:
                return self.status(404, "NotFound", f'nodes "{name}" not found')
            nodes = found
            if "as=Table" not in self.headers.get("Accept", ""):
                return self.send_json(200, found[0])
        if "as=Table" in self.headers.get("Accept", ""):
            return self.send_json(200, as_table(nodes))
        self.send_json(200, {"kind": "NodeList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": nodes})


def register_with_eks_standin(moto_url: str, url: str) -> None:
    request = Request(f"{moto_url.rstrip('/')}/_standin/kube-api", data=json.dumps({"url": url}).encode(), method="PUT")
    request.add_header("Content-Type", "application/json")
    with urlopen(request, timeout=10) as response:
        response.read()


def _quietly(function, *args) -> None:
    try:
        function(*args)
    except Exception:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description="kube-apiserver stand-in over moto (eksbox tests)")
    parser.add_argument("moto_url")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--regions", default=os.environ.get("EKSBOX_TEST_KUBE_API_REGIONS", ""))
    parser.add_argument("--url-file")
    options = parser.parse_args()
    os.environ["AWS_ENDPOINT_URL"] = options.moto_url
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        os.environ.setdefault(key, value)
    Handler.regions = _regions(options.regions)
    server = ThreadingHTTPServer(("127.0.0.1", options.port), Handler)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    # Before the URL is announced: describe-cluster names this server once anyone can use it. Plain
    # moto (no EKS stand-in in front) does not know the path, and its endpoints stay moto's.
    _quietly(register_with_eks_standin, options.moto_url, url)
    if options.url_file:
        with open(options.url_file, "w") as f:
            f.write(url + "\n")
    # moto builds each region's backends on first use (seconds for all regions): do it now, not on
    # kubectl's first request.
    threading.Thread(target=lambda: _quietly(nodes_from_moto, Handler.regions), daemon=True).start()
    print(f"kube-apiserver stand-in listening on {url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
