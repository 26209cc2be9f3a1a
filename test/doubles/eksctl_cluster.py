# `eksctl create/get/delete cluster` and `eksctl utils write-kubeconfig` of the eksctl TEST DOUBLE.
import ipaddress
import json
import os

import eksctl_automode
import eksctl_iamsa
import eksctl_identity
import eksctl_nodegroups
import eksctl_upgrade
from doublelib import Fail, client, cluster_not_found, config_if_given, info, load_config, parse_flags, region_from, success
from eksctl_kubeconfig import write_kubeconfig
from eksctl_state import (
    DOUBLE_VERSION, TAG, cluster_stack_name, create_role, create_stack, delete_role, delete_stack,
    describe_cluster, existing_cluster, get_stack, iam_name, list_clusters, oidc_provider_of, outputs_of, service_trust, stacks_with_prefix,
    tags_of,
)

DEFAULT_VERSION = "1.34"


def _ensure_vpc(config: dict, region: str, cluster: str):
    """Returns (vpc_id, public subnet ids, private subnet ids, created?) for the cluster."""
    ec2 = client("ec2", region)
    vpc = config.get("vpc") or {}
    subnets = vpc.get("subnets") or {}
    given = {kind: [s.get("id") for s in (subnets.get(kind) or {}).values() if s.get("id")] for kind in ("public", "private")}
    if given["public"] or given["private"]:
        ids = given["public"] + given["private"]
        try:
            found = ec2.describe_subnets(SubnetIds=ids)["Subnets"]
        except Exception as e:
            raise Fail(f"vpc.subnets: subnets {', '.join(ids)} could not be found in {region}: {e}")
        vpc_ids = sorted({s["VpcId"] for s in found})
        if len(vpc_ids) != 1:
            raise Fail(f"vpc.subnets: subnets must all be in one VPC, found {vpc_ids}")
        info(f"using existing VPC ({vpc_ids[0]}) and subnets (private:{given['private']} public:{given['public']})")
        return vpc_ids[0], given["public"], given["private"], False

    zones = config.get("availabilityZones") or sorted(
        z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]
    )[:3]
    info(f"setting availability zones to {zones}")
    network = ipaddress.ip_network(vpc.get("cidr") or "192.168.0.0/16")
    blocks = list(network.subnets(new_prefix=min(network.prefixlen + 3, 28)))
    if len(blocks) < 2 * len(zones):
        raise Fail(f"vpc.cidr {network} is too small for {len(zones)} zones")
    base_tags = [{"Key": "alpha.eksctl.io/cluster-name", "Value": cluster}, {"Key": TAG + "created-by", "Value": "eksctl"}]
    vpc_id = ec2.create_vpc(CidrBlock=str(network))["Vpc"]["VpcId"]
    ec2.create_tags(Resources=[vpc_id], Tags=base_tags + [{"Key": "Name", "Value": f"eksctl-{cluster}-cluster/VPC"}])
    public, private = [], []
    for index, zone in enumerate(zones):
        for kind, block, bucket in (("Public", blocks[index], public), ("Private", blocks[len(zones) + index], private)):
            subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock=str(block), AvailabilityZone=zone)["Subnet"]["SubnetId"]
            role = "kubernetes.io/role/elb" if kind == "Public" else "kubernetes.io/role/internal-elb"
            ec2.create_tags(
                Resources=[subnet_id],
                Tags=base_tags + [{"Key": "Name", "Value": f"eksctl-{cluster}-cluster/Subnet{kind}{zone.upper()}"}, {"Key": role, "Value": "1"}],
            )
            bucket.append(subnet_id)
    info(f"created VPC {vpc_id} with subnets in {zones} (test double: no NAT gateway, routes or security groups)")
    return vpc_id, public, private, True


def _create_oidc_provider(region: str, cluster: dict) -> str:
    iam = client("iam", region)
    url = cluster["identity"]["oidc"]["issuer"]
    tags = [{"Key": "alpha.eksctl.io/cluster-name", "Value": cluster["name"]}]
    # moto gives every cluster of a region the same issuer; real EKS gives each its own. The cluster
    # name makes it unique without a look-then-create race between clusters created side by side.
    url = f"{url}-{cluster['name']}"
    arn = iam.create_open_id_connect_provider(
        Url=url, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"], Tags=tags
    )["OpenIDConnectProviderArn"]
    return arn


def create_cluster(args):
    flags, _ = parse_flags(
        args,
        {"config-file", "kubeconfig", "region", "name", "timeout", "version"},
        {"set-kubeconfig-context", "write-kubeconfig", "auto-kubeconfig", "dry-run", "install-nvidia-plugin"},
    )
    config = load_config(flags.get("config-file"))
    region = region_from(flags, config)
    meta = config["metadata"]
    name, version = meta["name"], str(meta.get("version") or DEFAULT_VERSION)
    info(f"eksctl version {DOUBLE_VERSION}")
    info(f"using region {region}")
    if flags.get("dry-run"):
        print(json.dumps(config, indent=2))
        return 0
    eksctl_identity.require_agent_in_config(config)
    stack_name = cluster_stack_name(name)
    if get_stack(region, stack_name) or describe_cluster(region, name):
        raise Fail(
            f'creating CloudFormation stack "{stack_name}": AlreadyExistsException: Stack [{stack_name}] already exists'
        )
    info(f'creating EKS cluster "{name}" in "{region}" region with un-managed nodes')
    vpc_id, public, private, vpc_created = _ensure_vpc(config, region, name)
    role_name = iam_name(f"eksctl-{name}-cluster-ServiceRole")
    role_arn = create_role(role_name, service_trust("eks.amazonaws.com"), {"alpha.eksctl.io/cluster-name": name})
    try:
        client("iam", region).attach_role_policy(RoleName=role_name, PolicyArn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy")
    except Exception:
        pass  # moto without MOTO_IAM_LOAD_MANAGED_POLICIES has no AWS-managed policies; nothing depends on it
    endpoint = (config.get("vpc") or {}).get("clusterEndpoints") or {}
    logging_types = ((config.get("cloudWatch") or {}).get("clusterLogging") or {}).get("enableTypes") or []
    tags = {"alpha.eksctl.io/cluster-name": name, "alpha.eksctl.io/eksctl-version": DOUBLE_VERSION, **(meta.get("tags") or {})}
    info(f'building cluster stack "{stack_name}"')
    create_stack(
        region,
        stack_name,
        {**tags, "eksctl.cluster.k8s.io/v1alpha1/cluster-name": name, TAG + "vpc-created": str(vpc_created).lower()},
        {
            "VPC": vpc_id,
            "SubnetsPublic": ",".join(public),
            "SubnetsPrivate": ",".join(private),
            "ServiceRoleARN": role_arn,
            "ClusterStackName": stack_name,
        },
        f"EKS cluster (dedicated VPC: {vpc_created})",
    )
    # Through the EKS REST API rather than botocore 1.29, which predates accessConfig and upgradePolicy.
    access = config.get("accessConfig") or {}
    request = {
        "name": name,
        "version": version,
        "roleArn": role_arn,
        "resourcesVpcConfig": {
            "subnetIds": public + private,
            "endpointPublicAccess": endpoint.get("publicAccess", True),
            "endpointPrivateAccess": endpoint.get("privateAccess", False),
            "publicAccessCidrs": (config.get("vpc") or {}).get("publicAccessCIDRs") or ["0.0.0.0/0"],
        },
        "logging": {"clusterLogging": [{"types": [t for t in logging_types if t != "*"], "enabled": True}]} if logging_types else {},
        "tags": tags,
        # eksctl's default authenticationMode is API_AND_CONFIG_MAP.
        "accessConfig": {
            "authenticationMode": access.get("authenticationMode") or "API_AND_CONFIG_MAP",
            "bootstrapClusterCreatorAdminPermissions": access.get("bootstrapClusterCreatorAdminPermissions", True),
        },
    }
    auto = config.get("autoModeConfig") or {}
    if auto.get("enabled"):
        # eksctl's cluster stack gets the node role when Auto Mode has node pools (builder/cluster.go).
        pools = auto.get("nodePools")
        pools = list(eksctl_automode.KNOWN_NODE_POOLS) if pools is None else pools
        node_role = auto.get("nodeRoleARN") or (eksctl_automode.create_node_role(region, name) if pools else None)
        request.update(eksctl_automode.compute_request(True, pools, node_role))
    if (config.get("upgradePolicy") or {}).get("supportType"):
        request["upgradePolicy"] = {"supportType": config["upgradePolicy"]["supportType"]}
    cluster = eksctl_identity.eks_rest(region, "POST", "/clusters", request)["cluster"]
    if logging_types:
        import eksctl_update
        eksctl_update.ensure_log_group(region, name, ((config.get("cloudWatch") or {}).get("clusterLogging") or {}).get("logRetentionInDays"))
    if (config.get("iam") or {}).get("withOIDC"):
        arn = _create_oidc_provider(region, cluster)
        info(f"created IAM Open ID Connect provider for cluster \"{name}\" ({arn})")
    eksctl_upgrade.record_addons(region, cluster, config.get("addons") or [])
    eksctl_identity.create_access_entries_from_config(config, region)
    eksctl_identity.create_associations_from_config(config, region)
    if flags.get("write-kubeconfig", True):
        path = flags.get("kubeconfig") or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
        write_kubeconfig(path, cluster, region)
        success(f'saved kubeconfig as "{path}"')
    if config.get("nodeGroups") or config.get("managedNodeGroups"):
        eksctl_nodegroups.create_from_config(config, region, None, None)
    if ((config.get("iam") or {}).get("serviceAccounts")) and (config.get("iam") or {}).get("withOIDC"):
        eksctl_iamsa.create_from_config(config, region, None, True)
    success(f'EKS cluster "{name}" in "{region}" region is ready')
    return 0


def _pascal(value, inside_tags=False):
    """aws-sdk-go-v2 structs marshal with Go field names: describe-cluster's keys in PascalCase."""
    if isinstance(value, dict):
        return {
            (k if inside_tags else k[:1].upper() + k[1:]): _pascal(v, k in ("tags", "labels"))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_pascal(v) for v in value]
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return value


def get_cluster(args):
    flags, positional = parse_flags(args, {"name", "region", "output", "chunk-size"}, {"all-regions"})
    region = region_from(flags)
    name = flags.get("name") or (positional[0] if positional else None)
    if name:
        cluster = describe_cluster(region, name)
        if cluster is None:
            raise Fail(
                "unable to describe cluster control plane: operation error EKS: DescribeCluster, "
                f"https response error StatusCode: 404, ResourceNotFoundException: No cluster found for name: {name}."
            )
        rows = [_pascal(cluster)]
    else:
        rows = [{"Name": n, "Region": region, "EksctlCreated": "True"} for n in list_clusters(region)]
    if flags.get("output") in ("json", "yaml"):
        print(json.dumps(rows, indent=4))
    else:
        print("NAME\tREGION\tEKSCTL CREATED")
        for row in rows:
            print(f"{row['Name']}\t{region}\tTrue")
    return 0


def delete_cluster(args):
    flags, positional = parse_flags(
        args,
        {"name", "region", "config-file", "timeout", "parallel"},
        {"wait", "force", "disable-nodegroup-eviction"},
    )
    config = config_if_given(flags)
    region = region_from(flags, config)
    name = flags.get("name") or (positional[0] if positional else None) or (config or {}).get("metadata", {}).get("name")
    if not name:
        raise Fail("--name=<name> must be set")
    stack = get_stack(region, cluster_stack_name(name))
    cluster = describe_cluster(region, name)
    if stack is None and cluster is None:
        raise cluster_not_found(name)
    info(f"deleting EKS cluster \"{name}\"")
    for sa_stack in stacks_with_prefix(region, f"eksctl-{name}-addon-iamserviceaccount-"):
        eksctl_iamsa.delete_one(region, sa_stack)
    for pia_stack in stacks_with_prefix(region, f"eksctl-{name}-podidentityrole-"):
        eksctl_iamsa.delete_one(region, pia_stack)
    for entry_stack in stacks_with_prefix(region, f"eksctl-{name}-accessentry-"):
        delete_stack(region, entry_stack["StackName"])
    for ng in eksctl_nodegroups.nodegroups_for_delete(region, name):
        eksctl_nodegroups.delete_one(region, name, ng)
    if cluster is not None:
        client("eks", region).delete_cluster(name=name)
    provider = oidc_provider_of(region, name)
    if provider:
        client("iam", region).delete_open_id_connect_provider(OpenIDConnectProviderArn=provider)
    delete_role(iam_name(f"eksctl-{name}-cluster-ServiceRole"))
    eksctl_automode.delete_node_role(region, name)
    if stack is not None:
        outputs, tags = outputs_of(stack), tags_of(stack)
        if tags.get(TAG + "vpc-created") == "true":
            ec2 = client("ec2", region)
            for subnet in filter(None, (outputs.get("SubnetsPublic", "") + "," + outputs.get("SubnetsPrivate", "")).split(",")):
                ec2.delete_subnet(SubnetId=subnet)
            ec2.delete_vpc(VpcId=outputs["VPC"])
        delete_stack(region, stack["StackName"])
    success("all cluster resources were deleted")
    return 0


def write_kubeconfig_command(args):
    flags, _ = parse_flags(
        args, {"cluster", "name", "region", "kubeconfig", "authenticator-role-arn"}, {"set-kubeconfig-context", "auto-kubeconfig"}
    )
    region = region_from(flags)
    name = flags.get("cluster") or flags.get("name")
    if not name:
        raise Fail("--cluster=<name> must be set")
    cluster = existing_cluster(region, name)
    path = flags.get("kubeconfig") or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
    write_kubeconfig(path, cluster, region)
    success(f'saved kubeconfig as "{path}"')
    return 0
