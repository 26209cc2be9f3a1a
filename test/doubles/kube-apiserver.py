#!/usr/bin/env python3
# ============================================================================================
#  kube-apiserver STAND-IN for eksbox's tests and local demo -- NOT a Kubernetes API server.
#  Runs on the host, read-only. It answers just enough of the API for the real kubectl (1.20) to
#  run `kubectl get nodes [-l selector] [-o json]`: discovery, and Nodes derived from moto's state
#  (DesiredCapacity Ready nodes per nodegroup of every cluster the eksctl test double made).
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

sys.dont_write_bytecode = True  # keep test/doubles/ free of __pycache__ when run from the repository
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))

KUBE_VERSION = {"major": "1", "minor": "34", "gitVersion": "v1.34.0-eks-testdouble", "platform": "linux/amd64"}
NODE_RESOURCE = {
    "name": "nodes", "singularName": "", "namespaced": False, "kind": "Node",
    "verbs": ["get", "list"], "shortNames": ["no"],
}
_moto_lock = threading.Lock()  # botocore clients are shared: one moto scan at a time


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
    return nodes


def _node(region: str, cluster: str, ng: dict, index: int) -> dict:
    digest = hashlib.sha1(f"{region}/{cluster}/{ng['Name']}/{index}".encode()).digest()
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
            "providerID": f"aws:///{region}/i-{digest.hex()[:17]}",
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
        ok = {
            "=": present and actual == value,
            "!=": actual != value,
            "in": present and actual in (value or ()),
            "notin": actual not in (value or ()),
            "exists": present,
            "!exists": not present,
        }[op]
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

    def do_GET(self):  # noqa: N802 (http.server's naming)
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
            self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []})
        elif path == "/api/v1":
            self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "v1", "resources": [NODE_RESOURCE]})
        elif path == "/api/v1/nodes" or path.startswith("/api/v1/nodes/"):
            self.nodes(path, query)
        else:
            self.status(404, "NotFound", f"the kube-apiserver stand-in does not serve {path}")

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
