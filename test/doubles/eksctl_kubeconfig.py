# Kubeconfig files as the eksctl TEST DOUBLE writes them, and how flux's double finds its cluster again.
import os

import yaml

STATIC_TOKEN = "eksbox-test-double-static-token"


def context_names(cluster: str, region: str):
    cluster_entry = f"{cluster}.{region}.eksctl.io"
    return cluster_entry, f"eksbox-test-double@{cluster_entry}"


def write_kubeconfig(path: str, cluster_info: dict, region: str) -> None:
    """Merges this cluster's entries into `path` and makes it the current context, like eksctl.

    The server is the cluster's endpoint as describe-cluster gives it, as with eksctl; with the
    kube-apiserver stand-in running, the EKS stand-in gives that stand-in's URL for the cluster. Real
    eksctl writes an `exec` user running `aws eks get-token`; the stand-in takes any token, so a
    static one keeps kubectl from calling aws at all.
    """
    cluster_entry, context = context_names(cluster_info["name"], region)
    server = cluster_info["endpoint"]
    cluster_fields = {"server": server}
    if server.startswith("https://"):
        cluster_fields["certificate-authority-data"] = cluster_info["certificateAuthority"]["data"]
    config = {"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": [], "preferences": {}}
    if os.path.exists(path):
        with open(path) as f:
            config = yaml.safe_load(f) or config

    def upsert(section: str, name: str, body_key: str, body: dict) -> None:
        entries = [e for e in (config.get(section) or []) if e.get("name") != name]
        config[section] = entries + [{"name": name, body_key: body}]

    upsert("clusters", cluster_entry, "cluster", cluster_fields)
    upsert("contexts", context, "context", {"cluster": cluster_entry, "user": context})
    upsert("users", context, "user", {"token": STATIC_TOKEN})
    config["current-context"] = context
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    # The kubeconfig holds a credential: owner-only, like eksctl's.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# written by the eksctl TEST DOUBLE (real eksctl uses an exec user: aws eks get-token)\n")
        yaml.safe_dump(config, f, sort_keys=False)


def cluster_of_kubeconfig(path: str):
    """(cluster, region) of the current context of a kubeconfig the double wrote, or None."""
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        config = yaml.safe_load(f) or {}
    current = config.get("current-context")
    for context in config.get("contexts") or []:
        if context.get("name") == current:
            entry = (context.get("context") or {}).get("cluster", "")
            if entry.endswith(".eksctl.io"):
                cluster, region = entry[: -len(".eksctl.io")].rsplit(".", 1)
                return cluster, region
    return None


def server_of_kubeconfig(path: str):
    """(server URL, token) of the current context of a kubeconfig the double wrote, or None."""
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        config = yaml.safe_load(f) or {}
    current = config.get("current-context")
    context = next((c.get("context") or {} for c in config.get("contexts") or [] if c.get("name") == current), None)
    if context is None:
        return None
    cluster = next((c.get("cluster") or {} for c in config.get("clusters") or [] if c.get("name") == context.get("cluster")), {})
    user = next((u.get("user") or {} for u in config.get("users") or [] if u.get("name") == context.get("user")), {})
    return cluster.get("server"), user.get("token", "")
