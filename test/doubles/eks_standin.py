#!/usr/bin/env python3
# ============================================================================================
#  EKS STAND-IN in front of moto -- a TEST DOUBLE, not AWS. moto 5.2.1 answers none of these EKS
#  APIs, so this small HTTP server serves them itself, per cluster, and forwards every other request
#  to moto unchanged:
#    pod identity associations  POST/GET /clusters/{name}/pod-identity-associations[/{id}] (+ DELETE)
#    access entries             POST/GET/DELETE /clusters/{name}/access-entries[/{principalArn}[/access-policies[/{policyArn}]]]
#    insights                   POST /clusters/{name}/insights, GET /clusters/{name}/insights/{id},
#                               POST/GET /clusters/{name}/insights-refresh
#    cluster versions           GET /cluster-versions
#    cluster access config and upgrade policy: added to moto's describe-cluster; set by
#                               POST /clusters/{name}/update-config (other fields go on to moto)
#    EKS Auto Mode              computeConfig, storageConfig.blockStorage and
#                               kubernetesNetworkConfig.elasticLoadBalancing: taken from CreateCluster,
#                               added to describe-cluster, set by POST /clusters/{name}/update-config
#                               (all three switched together, as EKS requires); GET
#                               /clusters/{name}/updates/{id} answers every update it made
#    asynchronous updates       an access config or upgrade policy update is InProgress when made (the
#                               cluster UPDATING, the old setting in force, another UpdateClusterConfig
#                               refused with ResourceInUseException, as EKS does) and Successful, applied, after
#    control-plane version      POST /clusters/{name}/updates {"version"}: moto has no
#                               UpdateClusterVersion, so the stand-in re-creates moto's cluster at
#                               the new version (same name, role, subnets, tags) and keeps its own state
#  Where it departs from EKS (on purpose, for tests):
#    - a cluster created through it starts in authenticationMode API_AND_CONFIG_MAP (eksctl's default)
#      with an access entry giving its creator (moto's sts get-caller-identity) AmazonEKSClusterAdminPolicy;
#    - an access config or upgrade policy update answers InProgress at its first describe-update and is
#      Successful at the next (EKS: done minutes later, described or not); Auto Mode and version updates
#      are Successful at once; an update in progress blocks only the updates the stand-in makes (logging
#      and endpoint access are moto's);
#    - no authorization is checked; the region comes from the request's SigV4 credential scope;
#    - insights are whatever a test seeds: PUT /_standin/insights/{region}/{cluster} with a JSON
#      list of Insight objects (lastRefreshTime as epoch seconds); a refresh completes at once and
#      sets lastRefreshTime to now unless the seed says {"refreshFails": true};
#    - cluster versions come from STANDIN_CLUSTER_VERSIONS below or PUT /_standin/cluster-versions;
#    - Auto Mode launches nothing: turning it on or off changes only what describe-cluster says (a
#      test launches instances tagged as Auto Mode's itself); a cluster created without computeConfig
#      shows none (EKS: computeConfig.enabled false);
#    - a cluster's endpoint is moto's made-up https URL until the kube-apiserver stand-in registers
#      itself (PUT /_standin/kube-api {"url"}, kube-apiserver.py does at start); from then on it is
#      <url>/clusters/{region}/{name}, the server that stand-in answers for that cluster, so a
#      kubeconfig written from describe-cluster reaches it (and stays the same across upgrades, as on EKS).
#  Usage: eks_standin.py --port P --moto http://127.0.0.1:M   (prints "listening <url>" when ready;
#         with --port 0 the url names the port the kernel chose)
# ============================================================================================
import argparse
import datetime
import json
import re
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.dont_write_bytecode = True

CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
MODES = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]


def _epoch(day: str) -> float:
    return datetime.datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=datetime.timezone.utc).timestamp()


# The EKS Kubernetes release calendar as the stand-in serves it (release, end of standard support,
# end of extended support); tests that need other dates PUT their own.
STANDIN_CLUSTER_VERSIONS = [
    ("1.30", "2024-05-23", "2025-07-23", "2026-07-23"),
    ("1.31", "2024-09-26", "2025-11-26", "2026-11-26"),
    ("1.32", "2025-01-23", "2026-03-23", "2027-03-23"),
    ("1.33", "2025-05-29", "2026-07-29", "2027-07-29"),
    ("1.34", "2025-10-02", "2026-12-02", "2027-12-02"),
    ("1.35", "2026-01-27", "2027-03-27", "2028-03-27"),
]

lock = threading.Lock()
clusters = {}  # (region, name) -> {"mode", "bootstrap", "supportType", "associations": {id: {...}}, "entries": {arn: {...}}, "insights": [...]}
cluster_versions = None  # overrides STANDIN_CLUSTER_VERSIONS when a test PUTs them
kube_api = None  # the kube-apiserver stand-in's URL once it registered


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(what: str):
    return ApiError(404, "ResourceNotFoundException", what)


def _region(headers) -> str:
    match = re.search(r"Credential=[^/]+/\d{8}/([^/]+)/", headers.get("Authorization", ""))
    return match.group(1) if match else "us-east-1"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    moto = ""

    def log_message(self, fmt, *args):  # quiet: tests read results, not access logs
        pass

    # ---- plumbing -------------------------------------------------------------------------
    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload, content_type="application/json", raw: bytes = None, headers=None):
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-type", "server", "date"):
                self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _forward(self, body: bytes):
        """The request as it came, to moto; returns (status, headers, body)."""
        request = urllib.request.Request(self.moto + self.path, data=body if body or self.command in ("POST", "PUT") else None, method=self.command)
        for key, value in self.headers.items():
            if key.lower() not in ("host", "content-length", "connection", "accept-encoding"):
                request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def _moto_cluster(self, name: str):
        """moto's describe-cluster for name (None when moto does not know it)."""
        request = urllib.request.Request(f"{self.moto}/clusters/{urllib.parse.quote(name)}", method="GET")
        if self.headers.get("Authorization"):
            request.add_header("Authorization", self.headers["Authorization"])
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"{}").get("cluster")
        except urllib.error.HTTPError:
            return None

    def _caller_arn(self) -> str:
        body = urllib.parse.urlencode({"Action": "GetCallerIdentity", "Version": "2011-06-15"}).encode()
        request = urllib.request.Request(self.moto + "/", data=body, method="POST")
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        if self.headers.get("Authorization"):
            request.add_header("Authorization", self.headers["Authorization"].replace("/eks/", "/sts/"))
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read().decode()
        match = re.search(r"<Arn>([^<]+)</Arn>", text)
        return match.group(1) if match else "arn:aws:iam::123456789012:user/moto"

    def _state(self, name: str, must_exist=True):
        key = (_region(self.headers), name)
        with lock:
            state = clusters.get(key)
        if state is None:
            if self._moto_cluster(name) is None:
                if must_exist:
                    raise not_found(f"No cluster found for name: {name}.")
                return None
            # A cluster moto knows that was not created through the stand-in: EKS's defaults.
            with lock:
                state = clusters.setdefault(key, new_state("API_AND_CONFIG_MAP", None))
        return state

    # ---- dispatch -------------------------------------------------------------------------
    def _handle(self):
        body = self._body()
        parsed = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in parsed.path.split("/") if p]
        query = urllib.parse.parse_qs(parsed.query)
        try:
            result = self._route(parts, query, body)
        except ApiError as e:
            self._send(e.status, {"message": e.message}, headers={"x-amzn-ErrorType": e.code})
            return
        if result == "sent":
            return
        if result is None:
            status, headers, raw = self._forward(body)
            self._send(status, None, headers.get("Content-Type", "application/json"), raw, headers)
        else:
            status, payload = result
            self._send(status, payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def _json(self, body: bytes) -> dict:
        try:
            return json.loads(body or b"{}")
        except ValueError:
            raise ApiError(400, "InvalidRequestException", "the request body is not JSON")

    def _route(self, parts, query, body):
        method = self.command
        if parts[:1] == ["_standin"]:
            return self._seed(parts[1:], body)
        if parts == ["cluster-versions"] and method == "GET":
            return 200, describe_cluster_versions(query)
        if parts == ["clusters"] and method == "POST":
            return self._create_cluster(body)
        if len(parts) < 2 or parts[0] != "clusters":
            return None
        name = parts[1]
        rest = parts[2:]
        if not rest:
            if method == "GET":
                return self._describe_cluster(name, body)
            if method == "DELETE":
                with lock:
                    clusters.pop((_region(self.headers), name), None)
            return None
        if rest == ["update-config"] and method == "POST":
            return self._update_config(name, body)
        if rest == ["updates"] and method == "POST":
            return self._update_version(name, body)
        if len(rest) == 2 and rest[0] == "updates" and method == "GET":
            return 200, {"update": describe_update(self._state(name), rest[1])}
        if rest[0] == "pod-identity-associations":
            return pod_identity(self._state(name), name, method, rest[1:], query, self._json(body))
        if rest[0] == "access-entries":
            return access_entries(self._state(name), name, method, rest[1:], self._json(body))
        if rest[0] == "insights":
            return insights(self._state(name), name, method, rest[1:], self._json(body))
        if rest[0] == "insights-refresh":
            return insights_refresh(self._state(name), method)
        return None

    # ---- clusters -------------------------------------------------------------------------
    def _create_cluster(self, body):
        request = self._json(body)
        access = request.pop("accessConfig", None) or {}
        upgrade = request.pop("upgradePolicy", None) or {}
        auto_mode = pop_auto_mode(request)
        if auto_mode is not None:
            check_auto_mode(auto_mode)
        status, headers, raw = self._forward(json.dumps(request).encode())
        if status == 200:
            name = json.loads(raw)["cluster"]["name"]
            creator = self._caller_arn() if access.get("bootstrapClusterCreatorAdminPermissions", True) else None
            state = new_state(access.get("authenticationMode") or "API_AND_CONFIG_MAP", creator)
            state["supportType"] = upgrade.get("supportType") or "EXTENDED"
            state["autoMode"] = auto_mode
            with lock:
                clusters[(_region(self.headers), name)] = state
            raw = json.dumps(with_endpoint(with_config(json.loads(raw), state), _region(self.headers))).encode()
        self._send(status, None, headers.get("Content-Type", "application/json"), raw, headers)
        return "sent"

    def _describe_cluster(self, name, body):
        status, headers, raw = self._forward(body)
        if status == 200:
            state = self._state(name, must_exist=False)
            response = json.loads(raw)
            if state is not None:
                response = with_config(response, state)
            raw = json.dumps(with_endpoint(response, _region(self.headers))).encode()
        self._send(status, None, headers.get("Content-Type", "application/json"), raw, headers)
        return "sent"

    def _update_config(self, name, body):
        request = self._json(body)
        access = request.pop("accessConfig", None)
        upgrade = request.pop("upgradePolicy", None)
        auto_mode = pop_auto_mode(request)
        request.pop("clientRequestToken", None)
        request.pop("name", None)
        if request or sum(1 for part in (access, upgrade, auto_mode) if part) > 1:
            if access or upgrade or auto_mode:
                raise ApiError(400, "InvalidParameterException", "only one type of update can be allowed")
            return None  # logging, endpoint access and the rest are moto's
        state = self._state(name)
        with lock:
            busy = in_progress(state)
        if busy is not None:
            raise ApiError(409, "ResourceInUseException", f"Cannot UpdateClusterConfig because cluster {name} currently has update {busy['id']} in progress")
        if auto_mode is not None:
            check_auto_mode(auto_mode)
            with lock:
                state["autoMode"] = auto_mode
            return 200, {"update": self._record(state, "AutoModeUpdate", [
                {"type": "ComputeConfig", "value": json.dumps(auto_mode["computeConfig"])},
                {"type": "StorageConfig", "value": json.dumps(auto_mode["storageConfig"])},
                {"type": "KubernetesNetworkConfig", "value": json.dumps(auto_mode["kubernetesNetworkConfig"])},
            ])}
        params = []
        change = {}
        with lock:
            if access:
                wanted = access.get("authenticationMode")
                if wanted:
                    if wanted not in MODES:
                        raise ApiError(400, "InvalidParameterException", f"unknown authenticationMode {wanted}")
                    if MODES.index(wanted) < MODES.index(state["mode"]):
                        raise ApiError(400, "InvalidParameterException", f"Unsupported authentication mode update from {state['mode']} to {wanted}")
                    if wanted == state["mode"]:
                        raise ApiError(400, "InvalidParameterException", f"Cluster already at desired authentication mode {wanted}")
                    change["mode"] = wanted
                    params.append({"type": "AuthenticationMode", "value": wanted})
            if upgrade and upgrade.get("supportType"):
                change["supportType"] = upgrade["supportType"]
                params.append({"type": "UpgradePolicy", "value": upgrade["supportType"]})
        kind = "AccessConfigUpdate" if access else "UpgradePolicyUpdate"
        return 200, {"update": self._record(state, kind, params, change)}

    def _record(self, state, kind, params, change=None):
        """An update made now (Successful), or, with the change it makes, InProgress until describe_update finishes it."""
        update = {"id": str(uuid.uuid4()), "status": "InProgress" if change else "Successful", "type": kind, "params": params,
                  "createdAt": time.time(), "errors": []}
        with lock:
            state["updates"][update["id"]] = update
            if change:
                state["pending"][update["id"]] = {"change": change, "described": False}
        return dict(update)

    def _update_version(self, name, body):
        wanted = str(self._json(body).get("version") or "")
        current = self._moto_cluster(name)
        if current is None:
            raise not_found(f"No cluster found for name: {name}.")
        self._state(name)
        if not re.match(r"^1\.\d+$", wanted):
            raise ApiError(400, "InvalidParameterException", f"unsupported Kubernetes version {wanted}")
        if int(wanted.split(".")[1]) != int(current["version"].split(".")[1]) + 1:
            raise ApiError(400, "InvalidParameterException", f"Unsupported Kubernetes minor version update from {current['version']} to {wanted}")
        keys = ("subnetIds", "securityGroupIds", "endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs")
        recreate = {
            "name": name, "version": wanted, "roleArn": current["roleArn"],
            "resourcesVpcConfig": {k: v for k, v in (current.get("resourcesVpcConfig") or {}).items() if k in keys},
            "tags": current.get("tags") or {},
        }
        for method, path, payload in (("DELETE", f"/clusters/{urllib.parse.quote(name)}", None), ("POST", "/clusters", recreate)):
            request = urllib.request.Request(self.moto + path, data=json.dumps(payload).encode() if payload else None, method=method)
            request.add_header("Content-Type", "application/json")
            if self.headers.get("Authorization"):
                request.add_header("Authorization", self.headers["Authorization"])
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
        return 200, {"update": {"id": str(uuid.uuid4()), "status": "Successful", "type": "VersionUpdate",
                                "params": [{"type": "Version", "value": wanted}], "createdAt": time.time(), "errors": []}}

    # ---- test seeding ---------------------------------------------------------------------
    def _seed(self, parts, body):
        global cluster_versions, kube_api
        if self.command != "PUT":
            raise ApiError(405, "MethodNotAllowed", "seed with PUT")
        payload = self._json(body) if body else {}
        if parts == ["cluster-versions"]:
            cluster_versions = payload
            return 200, {"ok": True}
        if parts == ["kube-api"]:
            kube_api = str(payload["url"]).rstrip("/")
            return 200, {"ok": True}
        if len(parts) == 3 and parts[0] == "insights":
            region, name = parts[1], parts[2]
            with lock:
                state = clusters.setdefault((region, name), new_state("API_AND_CONFIG_MAP", None))
                if isinstance(payload, dict):
                    state["insights"] = payload.get("insights", [])
                    state["refreshFails"] = bool(payload.get("refreshFails"))
                else:
                    state["insights"] = payload
            return 200, {"ok": True}
        raise not_found("no such seed path")


def pop_auto_mode(request: dict):
    """The Auto Mode parts of a CreateCluster or UpdateClusterConfig request (moto knows none of them)."""
    compute = request.pop("computeConfig", None)
    storage = request.pop("storageConfig", None)
    network = request.get("kubernetesNetworkConfig") or {}
    balancing = network.pop("elasticLoadBalancing", None) if isinstance(network, dict) else None
    if "kubernetesNetworkConfig" in request and not network:
        request.pop("kubernetesNetworkConfig")
    if compute is None and storage is None and balancing is None:
        return None
    return {
        "computeConfig": compute or {"enabled": False},
        "storageConfig": storage or {"blockStorage": {"enabled": False}},
        "kubernetesNetworkConfig": {"elasticLoadBalancing": balancing or {"enabled": False}},
    }


def check_auto_mode(auto_mode: dict) -> None:
    """EKS turns Auto Mode's compute, block storage and load balancing on and off together."""
    compute = auto_mode["computeConfig"]
    switches = [bool(compute.get("enabled")), bool(auto_mode["storageConfig"]["blockStorage"].get("enabled")),
                bool(auto_mode["kubernetesNetworkConfig"]["elasticLoadBalancing"].get("enabled"))]
    if len(set(switches)) != 1:
        raise ApiError(400, "InvalidParameterException",
                       "For EKS Auto Mode, computeConfig.enabled, storageConfig.blockStorage.enabled and kubernetesNetworkConfig.elasticLoadBalancing.enabled must all be set to the same value")
    if compute.get("nodePools") and not compute.get("nodeRoleArn"):
        raise ApiError(400, "InvalidParameterException", "nodeRoleArn is required when nodePools are specified")
    if not compute.get("enabled") and compute.get("nodePools"):
        raise ApiError(400, "InvalidParameterException", "nodePools cannot be specified when computeConfig is disabled")


def new_state(mode: str, creator):
    state = {"mode": mode, "supportType": "EXTENDED", "autoMode": None, "updates": {}, "pending": {}, "associations": {}, "entries": {}, "insights": [], "refreshFails": False, "bootstrap": creator is not None}
    if creator and mode != "CONFIG_MAP":
        principal = role_of(creator)
        state["entries"][principal] = new_entry(principal, [], "STANDARD")
        state["entries"][principal]["policies"][CLUSTER_ADMIN] = {"policyArn": CLUSTER_ADMIN, "accessScope": {"type": "cluster", "namespaces": []}, "associatedAt": time.time(), "modifiedAt": time.time()}
    return state


def in_progress(state: dict):
    """The cluster's update in progress, if any (call with the lock held)."""
    return next((u for u in state["updates"].values() if u["status"] == "InProgress"), None)


def describe_update(state: dict, update_id: str) -> dict:
    """DescribeUpdate: an update in progress is so at its first describe, and done (its change made) at the next."""
    with lock:
        update = state["updates"].get(update_id)
        if update is None:
            raise not_found(f"No update found for ID: {update_id}")
        pending = state["pending"].get(update_id)
        if pending is not None:
            if pending["described"]:
                state.update(pending["change"])
                update["status"] = "Successful"
                del state["pending"][update_id]
            else:
                pending["described"] = True
        return dict(update)


def role_of(arn: str) -> str:
    """arn:aws:sts::1:assumed-role/R/session is the role arn:aws:iam::1:role/R to EKS."""
    match = re.match(r"arn:(aws[a-z-]*):sts::(\d+):assumed-role/([^/]+)/", arn)
    return f"arn:{match.group(1)}:iam::{match.group(2)}:role/{match.group(3)}" if match else arn.replace(":sts::", ":iam::")


def with_endpoint(response: dict, region: str) -> dict:
    cluster = response.get("cluster") or {}
    if kube_api and cluster.get("name"):
        cluster["endpoint"] = f"{kube_api}/clusters/{region}/{cluster['name']}"
    return response


def with_config(response: dict, state: dict) -> dict:
    cluster = response.get("cluster") or {}
    cluster["accessConfig"] = {"authenticationMode": state["mode"], "bootstrapClusterCreatorAdminPermissions": state["bootstrap"]}
    cluster["upgradePolicy"] = {"supportType": state["supportType"]}
    if cluster and in_progress(state) is not None:
        cluster["status"] = "UPDATING"
    auto_mode = state.get("autoMode")
    if auto_mode is not None:
        cluster["computeConfig"] = auto_mode["computeConfig"]
        cluster["storageConfig"] = auto_mode["storageConfig"]
        cluster["kubernetesNetworkConfig"] = {**(cluster.get("kubernetesNetworkConfig") or {}), **auto_mode["kubernetesNetworkConfig"]}
    return response


# ---- pod identity associations ---------------------------------------------------------------
def _association_view(name: str, a: dict, full=True) -> dict:
    view = {
        "clusterName": name, "namespace": a["namespace"], "serviceAccount": a["serviceAccount"],
        "associationArn": a["associationArn"], "associationId": a["associationId"],
    }
    if full:
        view.update({
            "roleArn": a["roleArn"], "tags": a.get("tags") or {}, "createdAt": a["createdAt"], "modifiedAt": a["modifiedAt"],
            "disableSessionTags": a.get("disableSessionTags", False),
        })
        if a.get("targetRoleArn"):
            view["targetRoleArn"] = a["targetRoleArn"]
            view["externalId"] = a["externalId"]
    return view


def pod_identity(state, name, method, rest, query, body):
    associations = state["associations"]
    if not rest and method == "POST":
        for field in ("namespace", "serviceAccount", "roleArn"):
            if not body.get(field):
                raise ApiError(400, "InvalidParameterException", f"{field} is required")
        with lock:
            if any(a["namespace"] == body["namespace"] and a["serviceAccount"] == body["serviceAccount"] for a in associations.values()):
                raise ApiError(409, "ResourceInUseException", "Association already exists for this service account")
            association_id = "a-" + uuid.uuid4().hex[:17]
            now = time.time()
            a = {
                "namespace": body["namespace"], "serviceAccount": body["serviceAccount"], "roleArn": body["roleArn"],
                "targetRoleArn": body.get("targetRoleArn"), "externalId": str(uuid.uuid4()) if body.get("targetRoleArn") else None,
                "disableSessionTags": bool(body.get("disableSessionTags")), "tags": body.get("tags") or {},
                "associationId": association_id,
                "associationArn": f"arn:aws:eks:us-east-1:123456789012:podidentityassociation/{name}/{association_id}",
                "createdAt": now, "modifiedAt": now,
            }
            associations[association_id] = a
        return 200, {"association": _association_view(name, a)}
    if not rest and method == "GET":
        ns = (query.get("namespace") or [None])[0]
        sa = (query.get("serviceAccount") or [None])[0]
        rows = [_association_view(name, a, full=False) for a in associations.values()
                if ns in (None, a["namespace"]) and sa in (None, a["serviceAccount"])]
        return 200, {"associations": rows}
    a = associations.get(rest[0]) if rest else None
    if a is None:
        raise not_found(f"No association found for id: {rest[0] if rest else ''}")
    if method == "GET":
        return 200, {"association": _association_view(name, a)}
    if method == "POST":
        with lock:
            if body.get("roleArn"):
                a["roleArn"] = body["roleArn"]
            if "targetRoleArn" in body:
                a["targetRoleArn"] = body["targetRoleArn"] or None
                a["externalId"] = str(uuid.uuid4()) if a["targetRoleArn"] else None
            if "disableSessionTags" in body:
                a["disableSessionTags"] = bool(body["disableSessionTags"])
            a["modifiedAt"] = time.time()
        return 200, {"association": _association_view(name, a)}
    if method == "DELETE":
        with lock:
            associations.pop(rest[0], None)
        return 200, {"association": _association_view(name, a)}
    raise ApiError(405, "MethodNotAllowed", method)


# ---- access entries ---------------------------------------------------------------------------
def new_entry(principal: str, groups, kind: str) -> dict:
    now = time.time()
    return {"principalArn": principal, "kubernetesGroups": list(groups or []), "type": kind or "STANDARD",
            "username": principal, "createdAt": now, "modifiedAt": now, "policies": {}}


def _entry_view(name: str, e: dict) -> dict:
    return {
        "clusterName": name, "principalArn": e["principalArn"], "kubernetesGroups": e["kubernetesGroups"],
        "accessEntryArn": f"arn:aws:eks:us-east-1:123456789012:access-entry/{name}/{uuid.uuid5(uuid.NAMESPACE_URL, e['principalArn'])}",
        "createdAt": e["createdAt"], "modifiedAt": e["modifiedAt"], "tags": {}, "username": e["username"], "type": e["type"],
    }


def access_entries(state, name, method, rest, body):
    if state["mode"] == "CONFIG_MAP":
        raise ApiError(400, "InvalidRequestException", "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation.")
    entries = state["entries"]
    if not rest:
        if method == "POST":
            principal = body.get("principalArn")
            if not principal:
                raise ApiError(400, "InvalidParameterException", "principalArn is required")
            if any(g.startswith("system:") for g in body.get("kubernetesGroups") or []):
                raise ApiError(400, "InvalidParameterException", "The kubernetesGroup name system:masters is invalid, it cannot start with system:")
            with lock:
                if principal in entries:
                    raise ApiError(409, "ResourceInUseException", f"The specified access entry resource is already in use on this cluster.")
                entries[principal] = new_entry(principal, body.get("kubernetesGroups"), body.get("type"))
            return 200, {"accessEntry": _entry_view(name, entries[principal])}
        if method == "GET":
            return 200, {"accessEntries": sorted(entries)}
        raise ApiError(405, "MethodNotAllowed", method)
    principal = rest[0]
    e = entries.get(principal)
    if e is None:
        raise not_found(f"The specified access entry resource is not found on this cluster: {principal}")
    if len(rest) == 1:
        if method == "GET":
            return 200, {"accessEntry": _entry_view(name, e)}
        if method == "POST":
            with lock:
                if "kubernetesGroups" in body:
                    e["kubernetesGroups"] = list(body["kubernetesGroups"] or [])
                if body.get("username"):
                    e["username"] = body["username"]
                e["modifiedAt"] = time.time()
            return 200, {"accessEntry": _entry_view(name, e)}
        if method == "DELETE":
            with lock:
                entries.pop(principal, None)
            return 200, {}
    if rest[1] == "access-policies":
        if len(rest) == 2 and method == "GET":
            return 200, {"clusterName": name, "principalArn": principal, "associatedAccessPolicies": list(e["policies"].values())}
        if len(rest) == 2 and method == "POST":
            scope = body.get("accessScope") or {}
            if scope.get("type") not in ("cluster", "namespace"):
                raise ApiError(400, "InvalidParameterException", "accessScope.type must be cluster or namespace")
            now = time.time()
            with lock:
                previous = e["policies"].get(body.get("policyArn"))
                e["policies"][body["policyArn"]] = {
                    "policyArn": body["policyArn"], "accessScope": {"type": scope["type"], "namespaces": scope.get("namespaces") or []},
                    "associatedAt": previous["associatedAt"] if previous else now, "modifiedAt": now,
                }
            return 200, {"clusterName": name, "principalArn": principal, "associatedAccessPolicy": e["policies"][body["policyArn"]]}
        if len(rest) == 3 and method == "DELETE":
            with lock:
                if e["policies"].pop(rest[2], None) is None:
                    raise not_found(f"The access policy {rest[2]} is not associated with {principal}")
            return 200, {}
    raise ApiError(405, "MethodNotAllowed", method)


# ---- insights ---------------------------------------------------------------------------------
_SUMMARY_KEYS = ("id", "name", "category", "kubernetesVersion", "lastRefreshTime", "lastTransitionTime", "description", "insightStatus")


def insights(state, name, method, rest, body):
    if not rest and method == "POST":
        wanted = (body.get("filter") or {})
        categories = wanted.get("categories") or []
        statuses = wanted.get("statuses") or []
        versions = wanted.get("kubernetesVersions") or []
        rows = [
            {k: i[k] for k in _SUMMARY_KEYS if k in i}
            for i in state["insights"]
            if (not categories or i.get("category") in categories)
            and (not statuses or (i.get("insightStatus") or {}).get("status") in statuses)
            and (not versions or i.get("kubernetesVersion") in versions)
        ]
        return 200, {"insights": rows}
    if len(rest) == 1 and method == "GET":
        for i in state["insights"]:
            if i.get("id") == rest[0]:
                return 200, {"insight": i}
        raise not_found(f"No insight found for id: {rest[0]}")
    raise ApiError(405, "MethodNotAllowed", method)


def insights_refresh(state, method):
    now = time.time()
    if method == "POST":
        if state["refreshFails"]:
            state["refresh"] = {"status": "FAILED", "message": "insights refresh failed (stand-in seeded to fail)", "startedAt": now, "endedAt": now}
        else:
            with lock:
                for i in state["insights"]:
                    i["lastRefreshTime"] = now
            state["refresh"] = {"status": "COMPLETED", "message": "insights refreshed", "startedAt": now, "endedAt": now}
        return 200, {"message": "Insights refresh started", "status": "IN_PROGRESS"}
    if method == "GET":
        return 200, state.get("refresh") or {"status": "COMPLETED", "message": "no refresh was started"}
    raise ApiError(405, "MethodNotAllowed", method)


# ---- cluster versions -------------------------------------------------------------------------
def describe_cluster_versions(query) -> dict:
    now = time.time()
    rows = cluster_versions if cluster_versions is not None else [
        {"clusterVersion": v, "releaseDate": _epoch(r), "endOfStandardSupportDate": _epoch(s), "endOfExtendedSupportDate": _epoch(e)}
        for v, r, s, e in STANDIN_CLUSTER_VERSIONS
    ]
    wanted = query.get("clusterVersions") or []
    out = []
    for row in rows:
        if wanted and row["clusterVersion"] not in wanted:
            continue
        status = "STANDARD_SUPPORT" if now < row["endOfStandardSupportDate"] else "EXTENDED_SUPPORT" if now < row["endOfExtendedSupportDate"] else "UNSUPPORTED"
        out.append({"clusterType": "eks", "defaultVersion": row["clusterVersion"] == "1.34", "versionStatus": status,
                    "status": status.lower().replace("_", "-"), **row})
    return {"clusterVersions": out}


def main():
    parser = argparse.ArgumentParser(description="EKS stand-in in front of moto (test double)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--moto", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    Handler.moto = args.moto.rstrip("/")
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    # --port 0: the kernel picks a free port when binding, so no other process can take it in between.
    print(f"listening http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
