# The in-place update commands of the eksctl TEST DOUBLE: `utils update-cluster-logging`,
# `utils update-cluster-vpc-config` and `update iamserviceaccount`. Like eksctl they plan only
# without --approve. Everything they change lands where the real AWS CLI reads it: EKS's
# UpdateClusterConfig (moto keeps logging and resourcesVpcConfig), CloudWatch Logs and IAM.
# Departures: real EKS makes these changes asynchronously (an update id to wait on); moto applies
# them at once. moto stores resourcesVpcConfig as given, so the double passes the whole merged
# config (real EKS merges the fields of one update itself).
import eksctl_iamsa
from doublelib import Fail, client, info, load_config, parse_flags, region_from, success, warn
from eksctl_state import describe_cluster, stacks_with_prefix, tags_of, TAG

LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]
VPC_INPUT_KEYS = ("subnetIds", "securityGroupIds", "endpointPublicAccess", "endpointPrivateAccess", "publicAccessCidrs")


def _cluster(flags: dict, config):
    region = region_from(flags, config)
    name = flags.get("cluster") or flags.get("name") or ((config or {}).get("metadata") or {}).get("name")
    if not name:
        raise Fail("--cluster=<name> must be set")
    cluster = describe_cluster(region, name)
    if cluster is None:
        raise Fail(f"ResourceNotFoundException: No cluster found for name: {name}.")
    return region, cluster


def _slice(value) -> list:
    return [v for v in (value or "").split(",") if v]


def enabled_log_types(cluster: dict) -> set:
    return {t for entry in (cluster.get("logging") or {}).get("clusterLogging") or [] if entry.get("enabled") for t in entry.get("types") or []}


def log_group_name(cluster: str) -> str:
    return f"/aws/eks/{cluster}/cluster"


def ensure_log_group(region: str, cluster: str, retention) -> None:
    """EKS creates the control plane's log group when a log type is enabled; moto does not, so the double does."""
    logs = client("logs", region)
    name = log_group_name(cluster)
    if not logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups"):
        logs.create_log_group(logGroupName=name)
    if retention:
        logs.put_retention_policy(logGroupName=name, retentionInDays=int(retention))


def _check_types(types: list, flag: str) -> None:
    if types == ["all"]:
        return
    for t in types:
        if t not in LOG_TYPES:
            raise Fail(f"unknown log type {t}. Supported log types: all, {', '.join(LOG_TYPES)}")


def update_cluster_logging(args):
    flags, positional = parse_flags(
        args, {"cluster", "name", "region", "config-file", "timeout", "enable-types", "disable-types"}, {"approve"}
    )
    config = load_config(flags["config-file"]) if flags.get("config-file") else None
    region, cluster = _cluster(flags, config)
    current = enabled_log_types(cluster)
    logging = (config or {}).get("cloudWatch", {}).get("clusterLogging") or {}
    if config is not None and logging.get("enableTypes") is not None:
        wanted = set(LOG_TYPES) if "*" in logging["enableTypes"] or "all" in logging["enableTypes"] else set(logging["enableTypes"])
        retention = logging.get("logRetentionInDays")
    else:
        enable, disable = _slice(flags.get("enable-types")), _slice(flags.get("disable-types"))
        if not enable and not disable:
            raise Fail("at least one flag has to be provided: --enable-types, --disable-types")
        if enable == ["all"] and disable == ["all"]:
            raise Fail("cannot use `all` for both --enable-types and --disable-types at the same time")
        _check_types(enable, "enable-types")
        _check_types(disable, "disable-types")
        if set(enable) & set(disable):
            raise Fail("log types cannot be part of --enable-types and --disable-types simultaneously")
        if disable == ["all"]:
            wanted = set(enable)
        elif enable == ["all"]:
            wanted = set(LOG_TYPES) - set(disable)
        else:
            wanted = (current | set(enable)) - set(disable)
        retention = None
    if wanted == current:
        success(f'CloudWatch logging for cluster "{cluster["name"]}" in "{region}" is already up-to-date')
        return 0
    disabled = sorted(set(LOG_TYPES) - wanted)
    info(f'{"" if flags.get("approve") else "(plan) "}update CloudWatch logging for cluster "{cluster["name"]}" in "{region}" '
         f'(enable types: {", ".join(sorted(wanted)) or "none"} & disable types: {", ".join(disabled) or "none"})')
    if not flags.get("approve"):
        warn("no changes were applied, run again with '--approve' to apply the changes")
        return 0
    entries = [e for e in ({"types": sorted(wanted), "enabled": True}, {"types": disabled, "enabled": False}) if e["types"]]
    client("eks", region).update_cluster_config(name=cluster["name"], logging={"clusterLogging": entries})
    if wanted:
        ensure_log_group(region, cluster["name"], retention)
    success(f'configured CloudWatch logging for cluster "{cluster["name"]}" in "{region}"')
    return 0


def _bool_flag(args: list, name: str) -> bool:
    return any(a == f"--{name}" or a.startswith(f"--{name}=") for a in args)


def update_cluster_vpc_config(args):
    flags, _ = parse_flags(
        args,
        {"cluster", "region", "config-file", "public-access-cidrs", "control-plane-subnet-ids", "control-plane-security-group-ids", "timeout"},
        {"approve", "private-access", "public-access"},
    )
    config = load_config(flags["config-file"]) if flags.get("config-file") else None
    region, cluster = _cluster(flags, config)
    vpc = {k: v for k, v in cluster["resourcesVpcConfig"].items() if k in VPC_INPUT_KEYS}
    wanted = dict(vpc)
    if config is not None:
        for flag in ("private-access", "public-access", "public-access-cidrs", "control-plane-subnet-ids"):
            if _bool_flag(args, flag):
                raise Fail(f"cannot use --{flag} when --config-file/-f is set")
        endpoints = (config.get("vpc") or {}).get("clusterEndpoints") or {}
        if "privateAccess" in endpoints:
            wanted["endpointPrivateAccess"] = bool(endpoints["privateAccess"])
        if "publicAccess" in endpoints:
            wanted["endpointPublicAccess"] = bool(endpoints["publicAccess"])
        if (config.get("vpc") or {}).get("publicAccessCIDRs"):
            wanted["publicAccessCidrs"] = list(config["vpc"]["publicAccessCIDRs"])
    else:
        if _bool_flag(args, "private-access"):
            wanted["endpointPrivateAccess"] = flags["private-access"]
        if _bool_flag(args, "public-access"):
            wanted["endpointPublicAccess"] = flags["public-access"]
        if flags.get("public-access-cidrs") is not None:
            wanted["publicAccessCidrs"] = _slice(flags["public-access-cidrs"])
        if flags.get("control-plane-subnet-ids") is not None:
            wanted["subnetIds"] = _slice(flags["control-plane-subnet-ids"])
        if flags.get("control-plane-security-group-ids") is not None:
            wanted["securityGroupIds"] = _slice(flags["control-plane-security-group-ids"])
        if wanted == vpc and not any(_bool_flag(args, f) for f in ("private-access", "public-access", "public-access-cidrs", "control-plane-subnet-ids", "control-plane-security-group-ids")):
            raise Fail("at least one of these options must be specified: --private-access, --public-access, --public-access-cidrs, "
                       "--control-plane-subnet-ids, --control-plane-security-group-ids")
    if not wanted.get("endpointPrivateAccess") and not wanted.get("endpointPublicAccess"):
        raise Fail("invalid endpoint access configuration: at least one of private and public access must be enabled")
    if wanted == vpc:
        success(f'Kubernetes API endpoint access and public access CIDRs for cluster "{cluster["name"]}" in "{region}" are already up-to-date')
        return 0
    info(f'{"" if flags.get("approve") else "(plan) "}update the VPC configuration of cluster "{cluster["name"]}": '
         f'privateAccess={wanted.get("endpointPrivateAccess")}, publicAccess={wanted.get("endpointPublicAccess")}, '
         f'publicAccessCIDRs={",".join(wanted.get("publicAccessCidrs") or [])}')
    if not flags.get("approve"):
        warn("no changes were applied, run again with '--approve' to apply the changes")
        return 0
    client("eks", region).update_cluster_config(name=cluster["name"], resourcesVpcConfig=wanted)
    success(f'updated the VPC configuration of cluster "{cluster["name"]}"')
    return 0


def update_iamserviceaccount(args):
    """Sets each chosen service account role's managed policies to exactly its attachPolicyARNs."""
    flags, _ = parse_flags(
        args,
        {"cluster", "name", "namespace", "attach-policy-arn", "include", "exclude", "region", "config-file", "timeout"},
        {"approve"},
    )
    config = load_config(flags["config-file"]) if flags.get("config-file") else None
    if config is not None:
        for flag in ("name", "namespace", "attach-policy-arn", "cluster"):
            if flag in flags:
                raise Fail(f"cannot use --{flag} when --config-file/-f is set")
    region = region_from(flags, config)
    cluster = flags.get("cluster") or ((config or {}).get("metadata") or {}).get("name")
    if not cluster or describe_cluster(region, cluster) is None:
        raise Fail(f"ResourceNotFoundException: No cluster found for name: {cluster}.")
    if config is not None:
        entries = eksctl_iamsa._entries(config, flags.get("include"), flags.get("exclude"))
    else:
        if not flags.get("name"):
            raise Fail("--name must be set")
        full = f"{flags.get('namespace') or 'default'}/{flags['name']}"
        entries = [(full, {"attachPolicyARNs": _slice(flags.get("attach-policy-arn"))})]
    stacks = {tags_of(s).get(eksctl_iamsa.NAME_TAG): s for s in stacks_with_prefix(region, f"eksctl-{cluster}-addon-iamserviceaccount-")}
    missing = [n for n, _ in entries if n not in stacks]
    if missing:
        raise Fail(f"iamserviceaccount(s) {', '.join(missing)} do not exist: create them first (eksctl create iamserviceaccount)")
    for full, sa in entries:
        absent = eksctl_iamsa.missing_policies(sa.get("attachPolicyARNs") or [])
        if absent:
            raise Fail(f"iamserviceaccount {full}: attachPolicyARNs: policy {', '.join(absent)} does not exist")
    iam = client("iam", region)
    for full, sa in entries:
        role = tags_of(stacks[full]).get(TAG + "role-name")
        wanted = set(sa.get("attachPolicyARNs") or [])
        attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]}
        if wanted == attached:
            info(f'iamserviceaccount "{full}" is up to date')
            continue
        info(f'{"" if flags.get("approve") else "(plan) "}update IAM role of serviceaccount "{full}": '
             f'attach {", ".join(sorted(wanted - attached)) or "nothing"}, detach {", ".join(sorted(attached - wanted)) or "nothing"}')
        if not flags.get("approve"):
            continue
        for arn in sorted(wanted - attached):
            iam.attach_role_policy(RoleName=role, PolicyArn=arn)
        for arn in sorted(attached - wanted):
            iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    if not flags.get("approve"):
        warn("no changes were applied, run again with '--approve' to apply the changes")
        return 0
    success(f"updated {len(entries)} iamserviceaccount(s)")
    return 0
