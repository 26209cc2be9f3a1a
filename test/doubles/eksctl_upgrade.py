# `eksctl upgrade cluster` and `eksctl create/get/update addon` of the eksctl TEST DOUBLE.
# moto has no UpdateClusterVersion and no addons, so: an upgrade is UpdateClusterVersion on the EKS
# stand-in (test/doubles/eks_standin.py), which re-creates the moto cluster with the new version
# (same name, ARN, tags and subnets; only with self-managed nodegroups, which live in
# CloudFormation), and addons are tags on the cluster (alpha.eksctl.io/test-double.addon.<name>=<version>,
# and alpha.eksctl.io/test-double.addon-config.<name>=<configurationValues> when it has any). They are
# in eksctl's own tag namespace, not eksbox-test-double/, because eksbox leaves eksctl's tags alone:
# under any other key they would be cluster tags the config does not name (reported as extra).
import json

from doublelib import Fail, client, cluster_name, config_if_given, info, load_config, parse_flags, region_from, success, warn
from eksctl_state import existing_cluster

ADDON_TAG = "alpha.eksctl.io/test-double.addon."
ADDON_CONFIG_TAG = "alpha.eksctl.io/test-double.addon-config."
ADDON_FLAGS_WITHOUT_FILE = ("name", "version", "service-account-role-arn")
VPC_CONFIG_KEYS = ("subnetIds", "securityGroupIds", "endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs")


def _minor(version: str) -> int:
    return int(str(version).split(".")[1])


def latest_addon_version(name: str, cluster_version: str) -> str:
    """A made-up but stable "latest" per cluster version, so an upgrade makes addons fall behind."""
    return f"v{cluster_version}.0-eksbuild.1"


def _resolve(version, cluster_version: str, name: str) -> str:
    return latest_addon_version(name, cluster_version) if version in (None, "", "latest") else str(version)


def record_addons(region: str, cluster: dict, addons: list) -> None:
    if not addons:
        return
    tags = {ADDON_TAG + a["name"]: _resolve(a.get("version"), cluster["version"], a["name"]) for a in addons}
    configs = {ADDON_CONFIG_TAG + a["name"]: str(a["configurationValues"]) for a in addons if a.get("configurationValues")}
    unset = [ADDON_CONFIG_TAG + a["name"] for a in addons if not a.get("configurationValues")]
    client("eks", region).tag_resource(resourceArn=cluster["arn"], tags={**tags, **configs})
    gone = [k for k in unset if k in (cluster.get("tags") or {})]
    if gone:
        client("eks", region).untag_resource(resourceArn=cluster["arn"], tagKeys=gone)
    for name, version in sorted(tags.items()):
        info(f'addon "{name[len(ADDON_TAG):]}" at {version} (test double: recorded as a cluster tag)')


def upgrade_cluster(args):
    flags, _ = parse_flags(args, {"config-file", "name", "cluster", "region", "version", "timeout"}, {"approve", "dry-run"})
    config = config_if_given(flags)
    if config is not None and flags.get("version"):
        raise Fail("--version cannot be used together with --config-file: set metadata.version in the file")
    region = region_from(flags, config)
    name = cluster_name(flags, config, ("name", "cluster"))
    cluster = existing_cluster(region, name)
    current = cluster["version"]
    target = str(flags.get("version") or ((config or {}).get("metadata") or {}).get("version") or f"1.{_minor(current) + 1}")
    if target == current:
        info(f'no cluster version update required: cluster "{name}" runs {current}')
        return 0
    if _minor(target) < _minor(current):
        raise Fail(f'cannot upgrade cluster "{name}" from {current} to {target}: downgrades are not possible')
    if _minor(target) > _minor(current) + 1:
        raise Fail(
            f'upgrading more than one version at a time is not supported. Found upgrade from "{current}" to '
            f'"{target}". Please upgrade to "1.{_minor(current) + 1}" instead'
        )
    info(f'will upgrade cluster "{name}" control plane from current version "{current}" to "{target}"')
    if not flags.get("approve"):
        warn("no changes were applied, run again with '--approve' to apply the changes")
        return 0
    eks = client("eks", region)
    if eks.list_nodegroups(clusterName=name).get("nodegroups"):
        raise Fail("the eksctl test double cannot upgrade a cluster with managed nodegroups (moto has no UpdateClusterVersion)")
    # UpdateClusterVersion, which the EKS stand-in in front of moto serves (Debian's botocore 1.29 knows it,
    # but the stand-in needs the REST call to keep its own state for the cluster).
    import eksctl_identity
    eksctl_identity.eks_rest(region, "POST", f"/clusters/{eksctl_identity.q(name)}/updates", {"version": target})
    success(f'cluster "{name}" control plane has been upgraded to version "{target}"')
    return 0


def _addon_rows(cluster: dict) -> list:
    rows = []
    for key, version in sorted((cluster.get("tags") or {}).items()):
        if not key.startswith(ADDON_TAG):
            continue
        name = key[len(ADDON_TAG):]
        latest = latest_addon_version(name, cluster["version"])
        rows.append({
            "Name": name, "Version": version, "NewerVersion": latest if latest != version else "",
            "IAMRole": "", "Status": "ACTIVE", "ConfigurationValues": (cluster.get("tags") or {}).get(ADDON_CONFIG_TAG + name, ""),
            "Issues": None,
        })
    return rows


def get_addon(args):
    flags, _ = parse_flags(args, {"cluster", "region", "name", "output"}, set())
    region = region_from(flags)
    rows = [r for r in _addon_rows(existing_cluster(region, flags.get("cluster"))) if flags.get("name") in (None, r["Name"])]
    if flags.get("output") in ("json", "yaml"):
        print(json.dumps(rows, indent=4))
    else:
        print("NAME\tVERSION\tSTATUS\tISSUES\tIAMROLE\tUPDATE AVAILABLE")
        for r in rows:
            print(f"{r['Name']}\t{r['Version']}\t{r['Status']}\t0\t\t{r['NewerVersion']}")
    return 0


def _addons_from(flags: dict):
    """With -f: every addon in the file (--name and friends are refused, as eksctl does); else the one the flags name."""
    if flags.get("config-file"):
        for flag in ADDON_FLAGS_WITHOUT_FILE:
            if flag in flags:
                raise Fail(f"cannot use --{flag} when --config-file/-f is set")
        config = load_config(flags["config-file"])
        region = region_from(flags, config)
        cluster = existing_cluster(region, config["metadata"]["name"])
        addons = list(config.get("addons") or [])
        if not addons:
            raise Fail("no addons specified")
        return region, cluster, addons
    region = region_from(flags)
    if not flags.get("cluster"):
        raise Fail("--cluster must be set")
    cluster = existing_cluster(region, flags["cluster"])
    if not flags.get("name"):
        raise Fail("no addons specified")
    addon = {"name": flags["name"], "version": flags.get("version")}
    if flags.get("service-account-role-arn"):
        addon["serviceAccountRoleARN"] = flags["service-account-role-arn"]
    return region, cluster, [addon]


def create_addon(args):
    flags, _ = parse_flags(
        args, {"config-file", "name", "version", "service-account-role-arn", "cluster", "region", "timeout"},
        {"force", "wait", "auto-apply-pod-identity-associations"},
    )
    region, cluster, addons = _addons_from(flags)
    present = {r["Name"] for r in _addon_rows(cluster)}
    for existing in [a["name"] for a in addons if a["name"] in present]:
        info(f'addon "{existing}" already exists, skipping')
    record_addons(region, cluster, [a for a in addons if a["name"] not in present])
    return 0


def update_addon(args):
    flags, _ = parse_flags(args, {"config-file", "name", "version", "service-account-role-arn", "cluster", "region", "timeout"}, {"force", "wait"})
    region, cluster, addons = _addons_from(flags)
    present = {r["Name"] for r in _addon_rows(cluster)}
    missing = [a["name"] for a in addons if a["name"] not in present]
    if missing:
        raise Fail(f"addon {', '.join(missing)} not found in cluster \"{cluster['name']}\": create it first")
    record_addons(region, cluster, addons)
    success(f"updated {len(addons)} addon(s)")
    return 0


def delete_addon(args):
    flags, _ = parse_flags(args, {"cluster", "region", "name", "config-file", "timeout"}, {"preserve", "wait"})
    if flags.get("config-file"):
        raise Fail("the eksctl test double deletes one addon at a time: --cluster and --name")
    region = region_from(flags)
    cluster = existing_cluster(region, flags.get("cluster"))
    name = flags.get("name")
    if not name:
        raise Fail("--name is required")
    if ADDON_TAG + name not in (cluster.get("tags") or {}):
        raise Fail(f'addon "{name}" not found in cluster "{cluster["name"]}"')
    client("eks", region).untag_resource(resourceArn=cluster["arn"], tagKeys=[k for k in (ADDON_TAG + name, ADDON_CONFIG_TAG + name) if k in cluster["tags"]])
    success(f'deleted addon "{name}"')
    return 0
