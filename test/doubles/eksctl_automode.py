# `eksctl update auto-mode-config` of the eksctl TEST DOUBLE, and the Auto Mode part of `create
# cluster`, after eksctl v0.215.0's pkg/ctl/update/auto_mode_config.go and
# pkg/actions/automode/auto_mode_updater.go: enabling adds Auto Mode's policies to the cluster role,
# creates the node role (stack eksctl-<cluster>-auto-mode-role) when node pools are asked for and
# the cluster has none, then calls UpdateClusterConfig with computeConfig, elasticLoadBalancing and
# blockStorage (the EKS stand-in keeps them); disabling does the reverse. An update that is already
# so changes nothing ("Auto Mode is already enabled and up-to-date" / "already disabled").
# Its flags (types included: --drain-parallel an int, --timeout a Go duration), --help, and the
# loader's refusals are checked against the real eksctl v0.215.0 by test/oracle/contract.test.ts
# (same error lines). Departures: the update is applied at once (real EKS: an update id eksctl waits
# on); moto has no AWS-managed policies unless loaded, so attaching them is best effort;
# --drain-all-nodegroups drains nothing (there are no pods); --help lists the same flags but in the
# double's own words; -p/--profile is accepted and not read (real eksctl fails on a profile the
# shared config lacks); a missing cluster is "ResourceNotFoundException: No cluster found for name"
# without eksctl's "unable to describe cluster control plane: operation error EKS: ..." before it; a
# file missing metadata, its name or region is refused by the schema check, in other words.
import eksctl_identity
from doublelib import Fail, client, go_duration, go_int, info, load_config, parse_flags, region_from, success
from eksctl_state import create_role, create_stack, delete_role, delete_stack, existing_cluster, get_stack, iam_name, service_trust

# builder.AutoModeIAMPolicies
CLUSTER_ROLE_POLICIES = ["AmazonEKSComputePolicy", "AmazonEKSBlockStoragePolicy", "AmazonEKSLoadBalancingPolicy", "AmazonEKSNetworkingPolicy"]
NODE_ROLE_POLICIES = ["AmazonEKSWorkerNodeMinimalPolicy", "AmazonEC2ContainerRegistryPullOnly"]
KNOWN_NODE_POOLS = ["general-purpose", "system"]


def node_role_stack_name(cluster: str) -> str:
    return f"eksctl-{cluster}-auto-mode-role"


def node_role_name(cluster: str) -> str:
    return iam_name(f"eksctl-{cluster}-auto-mode-role-AutoModeNodeRole")


def _policy_arn(name: str) -> str:
    return f"arn:aws:iam::aws:policy/{name}"


def _attach_best_effort(role: str, names: list) -> None:
    iam = client("iam", "us-east-1")
    for name in names:
        try:
            iam.attach_role_policy(RoleName=role, PolicyArn=_policy_arn(name))
        except Exception:
            pass  # moto without MOTO_IAM_LOAD_MANAGED_POLICIES has no AWS-managed policies


def create_node_role(region: str, cluster: str) -> str:
    """The node role's stack (eksctl's RoleCreator), or the role it already made."""
    role = node_role_name(cluster)
    arn = create_role(role, service_trust("ec2.amazonaws.com"), {"alpha.eksctl.io/cluster-name": cluster})
    _attach_best_effort(role, NODE_ROLE_POLICIES)
    if get_stack(region, node_role_stack_name(cluster)) is None:
        create_stack(region, node_role_stack_name(cluster), {"alpha.eksctl.io/cluster-name": cluster}, {"AutoModeNodeRoleARN": arn},
                     "IAM role for EKS Auto Mode nodes")
    return arn


def delete_node_role(region: str, cluster: str) -> None:
    if get_stack(region, node_role_stack_name(cluster)) is not None:
        delete_role(node_role_name(cluster))
        delete_stack(region, node_role_stack_name(cluster))


def validate(config: dict) -> dict:
    """eksctl's NewAutoModeLoader and ValidateAutoModeConfig."""
    meta = config.get("metadata") or {}
    if not meta.get("region"):
        raise Fail("metadata.region must be set")
    auto = config.get("autoModeConfig")
    if auto is None:
        raise Fail("autoModeConfig must be set")
    if auto.get("enabled") is None:
        raise Fail("autoModeConfig.enabled must be set to either true or false when updating Auto Mode config")
    pools = auto.get("nodePools")
    if auto["enabled"]:
        # SetClusterConfigDefaults: unset nodePools are Auto Mode's two; an explicit [] stays empty.
        role, boundary = auto.get("nodeRoleARN"), auto.get("permissionsBoundaryARN")
        if pools == [] and role:
            raise Fail("cannot specify autoModeConfig.nodeRoleARN when autoModeConfig.nodePools is empty")
        if pools == [] and boundary:
            raise Fail("cannot specify autoModeConfig.permissionBoundaryARN when autoModeConfig.nodePools is empty")
        if role and boundary:
            raise Fail("cannot specify autoModeConfig.permissionBoundaryARN when autoModeConfig.nodeRoleARN is set")
        for i, pool in enumerate(pools or []):
            if pool in (pools or [])[:i]:
                raise Fail(f'found duplicate node pool: "{pool}"')
            if pool not in KNOWN_NODE_POOLS:
                raise Fail(f'invalid NodePool "{pool}"')
    elif auto.get("nodeRoleARN") or auto.get("permissionsBoundaryARN") or pools:
        raise Fail("cannot set autoModeConfig.nodeRoleARN, autoModeConfig.permissionBoundaryARN, or autoModeConfig.nodePools when Auto Mode is disabled")
    return auto


def compute_request(enabled: bool, pools: list, node_role: str = None) -> dict:
    """UpdateClusterConfig's (and CreateCluster's) three Auto Mode parts, switched together as eksctl does."""
    compute = {"enabled": enabled}
    if enabled:
        compute["nodePools"] = pools
        if node_role:
            compute["nodeRoleArn"] = node_role
    return {
        "computeConfig": compute,
        "kubernetesNetworkConfig": {"elasticLoadBalancing": {"enabled": enabled}},
        "storageConfig": {"blockStorage": {"enabled": enabled}},
    }


def _terminate_auto_mode_instances(region: str, cluster: str) -> None:
    """EKS terminates Auto Mode's instances when Auto Mode is turned off; the EKS stand-in reaches no EC2, so the double does it."""
    ec2 = client("ec2", region)
    found = ec2.describe_instances(Filters=[{"Name": "tag:eks:eks-cluster-name", "Values": [cluster]},
                                            {"Name": "instance-state-name", "Values": ["pending", "running"]}])
    ids = [i["InstanceId"] for r in found.get("Reservations", []) for i in r.get("Instances", [])
           if any(t["Key"] == "eks:kubernetes-node-pool-name" for t in i.get("Tags", []))]
    if ids:
        ec2.terminate_instances(InstanceIds=ids)
        info(f"terminating {len(ids)} Auto Mode instance(s) (EKS does this; the test double stands in)")


def update_auto_mode_config(args):
    flags, _ = parse_flags(
        args,
        {"config-file", "drain-parallel", "timeout"},
        {"drain-all-nodegroups", "ignore-missing-subnets", "dumpLogs"},
        short={"-p": "profile", "-C": "color", "-d": "dumpLogs"},
        types={"drain-parallel": go_int, "timeout": go_duration, "verbose": go_int},
    )
    if not flags.get("config-file"):
        raise Fail("--config-file must be set")
    config = load_config(flags["config-file"])
    auto = validate(config)
    # eksctl asks whether either flag was given (cobra's Changed), whatever its value.
    if "drain-all-nodegroups" in flags or "drain-parallel" in flags:
        if not auto["enabled"]:
            raise Fail("cannot specify --drain-parallel or --drain-all-nodegroups when autoModeConfig.enabled is false")
        if auto.get("nodePools") == []:
            raise Fail("cannot specify --drain-parallel or --drain-all-nodegroups when autoModeConfig.nodePools is empty")
    drain = bool(flags.get("drain-all-nodegroups"))
    drain_parallel = go_int("--drain-parallel", flags.get("drain-parallel", "1"))
    if drain_parallel < 0:
        raise Fail(f"invalid value {drain_parallel} for --drain-parallel")
    region = region_from(flags, config)
    name = config["metadata"]["name"]
    existing_cluster(region, name)
    current = eksctl_identity.eks_rest(region, "GET", f"/clusters/{name}")["cluster"].get("computeConfig") or {}
    enabled_now = bool(current.get("enabled"))
    role_name = (eksctl_identity.eks_rest(region, "GET", f"/clusters/{name}")["cluster"].get("roleArn") or "").split("/")[-1]
    if auto["enabled"]:
        pools = auto.get("nodePools")
        pools = list(KNOWN_NODE_POOLS) if pools is None else pools
        if enabled_now:
            have = current.get("nodePools") or []
            # eksctl's own comparison (auto_mode_updater.go): same length and, when not empty, any pool in common.
            if len(pools) == len(have) and (len(pools) == 0 or any(p in have for p in pools)):
                info("Auto Mode is already enabled and up-to-date")
                return 0
        else:
            info("enabling Auto Mode")
        if role_name:
            _attach_best_effort(role_name, CLUSTER_ROLE_POLICIES)
        node_role = None
        if pools:
            node_role = current.get("nodeRoleArn") or auto.get("nodeRoleARN")
            if not node_role:
                info("creating node role for Auto Mode")
                node_role = create_node_role(region, name)
        info("updating compute config")
        eksctl_identity.eks_rest(region, "POST", f"/clusters/{name}/update-config", {"name": name, **compute_request(True, pools, node_role)})
        if not pools and current.get("nodeRoleArn"):
            delete_node_role(region, name)
        if drain:
            info("draining nodegroups (test double: there are no pods to evict)")
        success("Auto Mode enabled successfully")
        return 0
    if not enabled_now:
        info("Auto Mode is already disabled")
        return 0
    info("disabling Auto Mode")
    info("updating compute config")
    eksctl_identity.eks_rest(region, "POST", f"/clusters/{name}/update-config", {"name": name, **compute_request(False, [])})
    _terminate_auto_mode_instances(region, name)
    delete_node_role(region, name)
    if role_name:
        iam = client("iam", "us-east-1")
        for policy in CLUSTER_ROLE_POLICIES:
            try:
                iam.detach_role_policy(RoleName=role_name, PolicyArn=_policy_arn(policy))
            except Exception:
                pass  # not attached (moto without AWS-managed policies)
    success("Auto Mode disabled successfully")
    return 0
