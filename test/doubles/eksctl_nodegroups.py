# `eksctl create/get/delete/scale nodegroup` of the eksctl TEST DOUBLE. A self-managed nodegroup is
# what eksctl's CloudFormation stack makes: a launch template and an Auto Scaling group in moto
# (tagged alpha.eksctl.io/cluster-name and alpha.eksctl.io/nodegroup-name, as eksctl tags them), plus
# a stand-in stack whose tags carry what the double needs to read back. Sizes are read from the ASG,
# so a change made by hand through the AWS API is what eksctl (and eksbox) see. Managed nodegroups are
# moto EKS nodegroups (their scaling config, labels and taints live in EKS) plus the stack.
# Departure: moto's managed nodegroups have no Auto Scaling group of their own.
import fnmatch
import hashlib
import json

from doublelib import Fail, client, cluster_name, config_if_given, info, load_config, parse_flags, region_from, success, warn
from eksctl_state import (
    DOUBLE_VERSION, TAG, create_role, create_stack, delete_role, delete_stack, describe_cluster, existing_cluster,
    get_stack,
    iam_name, missing_policies, nodegroup_stack_name, nodegroups, service_trust, tags_of,
)

DEFAULT_POLICIES = [
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
]
MANAGED_AMI_TYPES = {
    "AmazonLinux2023": "AL2023_x86_64_STANDARD",
    "AmazonLinux2": "AL2_x86_64",
    "Bottlerocket": "BOTTLEROCKET_x86_64",
}
DISTRIBUTION_KEYS = {
    "onDemandBaseCapacity": "OnDemandBaseCapacity",
    "onDemandPercentageAboveBaseCapacity": "OnDemandPercentageAboveBaseCapacity",
    "spotAllocationStrategy": "SpotAllocationStrategy",
    "spotInstancePools": "SpotInstancePools",
    "maxPrice": "SpotMaxPrice",
}
TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "PreferNoSchedule": "PREFER_NO_SCHEDULE", "NoExecute": "NO_EXECUTE"}


def select(names: list, include, exclude) -> list:
    """eksctl's --include/--exclude: comma-separated globs; an --include glob matching nothing is a mistake."""
    chosen = list(names)
    if include:
        patterns = [p for p in include.split(",") if p]
        for pattern in patterns:
            if not any(fnmatch.fnmatchcase(n, pattern) for n in names):
                raise Fail(f'--include "{pattern}" matches no nodegroup in the config file (it has: {", ".join(names)})')
        chosen = [n for n in chosen if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    if exclude:
        chosen = [n for n in chosen if not any(fnmatch.fnmatchcase(n, p) for p in exclude.split(",") if p)]
    return chosen


def _cluster_zones(region: str, cluster: dict) -> dict:
    ids = cluster["resourcesVpcConfig"].get("subnetIds") or []
    zones = {}
    for subnet in client("ec2", region).describe_subnets(SubnetIds=ids)["Subnets"] if ids else []:
        zones.setdefault(subnet["AvailabilityZone"], []).append(subnet["SubnetId"])
    return zones


def _sizes(ng: dict, where: str):
    desired = ng.get("desiredCapacity", 2)
    minimum = ng.get("minSize", desired)
    maximum = ng.get("maxSize", max(desired, minimum))
    if minimum > desired:
        raise Fail(f"{where}: desiredCapacity ({desired}) cannot be lower than minSize ({minimum})")
    if desired > maximum:
        raise Fail(f"{where}: desiredCapacity ({desired}) cannot be greater than maxSize ({maximum})")
    return minimum, maximum, desired


def _node_role(cluster: str, ng: dict) -> tuple:
    iam_config = ng.get("iam") or {}
    if iam_config.get("instanceRoleARN"):
        return iam_config["instanceRoleARN"], False
    name = iam_name(f"eksctl-{cluster}-nodegroup-{ng['name']}-NodeInstanceRole")
    arn = create_role(name, service_trust("ec2.amazonaws.com"), {"alpha.eksctl.io/cluster-name": cluster, "alpha.eksctl.io/nodegroup-name": ng["name"]})
    iam = client("iam", "us-east-1")
    for policy in iam_config.get("attachPolicyARNs") or DEFAULT_POLICIES:
        try:
            iam.attach_role_policy(RoleName=name, PolicyArn=policy)
        except iam.exceptions.NoSuchEntityException:
            pass  # only the defaults get here (named ones were checked): moto may lack AWS-managed policies
    return arn, True


def _zones_for(ng: dict, where: str, cluster_zones: dict) -> list:
    zones = ng.get("availabilityZones") or sorted(cluster_zones)
    for zone in zones:
        if zone not in cluster_zones:
            raise Fail(
                f"{where}.availabilityZones: {zone} has no subnet in the cluster's VPC "
                f"(the cluster's zones are {', '.join(sorted(cluster_zones))})"
            )
    return zones


def create_from_config(config: dict, region: str, include, exclude) -> int:
    cluster_name = config["metadata"]["name"]
    cluster = describe_cluster(region, cluster_name)
    if cluster is None:
        raise Fail(f'getting cluster "{cluster_name}": ResourceNotFoundException: No cluster found for name: {cluster_name}.')
    cluster_zones = _cluster_zones(region, cluster)
    version = str(config["metadata"].get("version") or cluster["version"])
    entries = [("nodeGroups", i, ng) for i, ng in enumerate(config.get("nodeGroups") or [])]
    entries += [("managedNodeGroups", i, ng) for i, ng in enumerate(config.get("managedNodeGroups") or [])]
    chosen = select([ng["name"] for _, _, ng in entries], include, exclude)
    existing = {ng["Name"] for ng in nodegroups(region, cluster_name)}
    skipped = [n for n in chosen if n in existing]
    if skipped:
        info(f"{len(skipped)} existing nodegroup(s) ({','.join(skipped)}) will be excluded")
    todo = [(section, index, ng) for section, index, ng in entries if ng["name"] in chosen and ng["name"] not in skipped]
    # Check every nodegroup before creating any, as eksctl does: a bad one must not leave half a set.
    for section, index, ng in todo:
        where = f"{section}[{index}]"
        family = ng.get("amiFamily", "AmazonLinux2023")
        if family == "AmazonLinux2" and tuple(int(p) for p in version.split(".")) >= (1, 33):
            raise Fail(f"{where}.amiFamily: AmazonLinux2 is not supported for Kubernetes version {version} and above")
        _zones_for(ng, where, cluster_zones)
        _sizes(ng, where)
        missing = missing_policies((ng.get("iam") or {}).get("attachPolicyARNs") or [])
        if missing:
            raise Fail(f"{where}.iam.attachPolicyARNs: policy {', '.join(missing)} does not exist")
    created = 0
    for section, index, ng in todo:
        where = f"{section}[{index}]"
        family = ng.get("amiFamily", "AmazonLinux2023")
        zones = _zones_for(ng, where, cluster_zones)
        minimum, maximum, desired = _sizes(ng, where)
        distribution = ng.get("instancesDistribution") or {}
        types = distribution.get("instanceTypes") or ng.get("instanceTypes") or [ng.get("instanceType") or "m5.large"]
        role_arn, role_created = _node_role(cluster_name, ng)
        image = ng.get("ami") if str(ng.get("ami", "")).startswith("ami-") else "ami-" + hashlib.sha1(f"{family}/{version}".encode()).hexdigest()[:17]
        info(f'nodegroup "{ng["name"]}" will use "{image}" [{family}/{version}]')
        stack = nodegroup_stack_name(cluster_name, ng["name"])
        tags = {
            "alpha.eksctl.io/cluster-name": cluster_name,
            "alpha.eksctl.io/nodegroup-name": ng["name"],
            "alpha.eksctl.io/nodegroup-type": "unmanaged" if section == "nodeGroups" else "managed",
            "alpha.eksctl.io/eksctl-version": DOUBLE_VERSION,
            "eksctl.cluster.k8s.io/v1alpha1/cluster-name": cluster_name,
            TAG + "min-size": minimum,
            TAG + "max-size": maximum,
            TAG + "desired-capacity": desired,
            TAG + "instance-type": ",".join(types),
            TAG + "image-id": image,
            TAG + "instance-role-arn": role_arn,
            TAG + "role-created": str(role_created).lower(),
            TAG + "asg-name": f"{stack}-NodeGroup-{hashlib.sha1(stack.encode()).hexdigest()[:12].upper()}",
            TAG + "version": version,
            TAG + "zones": ",".join(zones),
            TAG + "spot": str(bool(distribution) or bool(ng.get("spot"))).lower(),
            TAG + "labels": json.dumps(ng.get("labels") or {}, sort_keys=True),
            TAG + "taints": json.dumps(ng.get("taints") or [], sort_keys=True),
            **(ng.get("tags") or {}),
        }
        info(f'building nodegroup stack "{stack}"')
        create_stack(region, stack, tags, {"InstanceRoleARN": role_arn}, f"EKS nodes ({section})")
        if section == "nodeGroups":
            _create_asg(region, cluster_name, ng, tags, image, types, distribution, [s for z in zones for s in cluster_zones[z]])
        if section == "managedNodeGroups":
            client("eks", region).create_nodegroup(
                clusterName=cluster_name,
                nodegroupName=ng["name"],
                scalingConfig={"minSize": minimum, "maxSize": maximum, "desiredSize": desired},
                subnets=[s for z in zones for s in cluster_zones[z]],
                nodeRole=role_arn,
                instanceTypes=types,
                amiType=MANAGED_AMI_TYPES.get(family, "CUSTOM"),
                capacityType="SPOT" if ng.get("spot") else "ON_DEMAND",
                diskSize=ng.get("volumeSize", 80),
                labels=ng.get("labels") or {},
                taints=[{"key": t["key"], "value": t.get("value", ""), "effect": TAINT_EFFECTS[t["effect"]]} for t in ng.get("taints") or []],
                tags={k: str(v) for k, v in tags.items() if not k.startswith(TAG)},
                version=version,
            )
        created += 1
    success(f'created {created} nodegroup(s) in cluster "{cluster_name}"')
    return 0


def _asg_tags(cluster: str, ng: dict) -> dict:
    """The tags eksctl's nodegroup template puts on the Auto Scaling group (propagated to instances)."""
    return {
        "alpha.eksctl.io/cluster-name": cluster,
        "alpha.eksctl.io/nodegroup-name": ng["name"],
        "alpha.eksctl.io/nodegroup-type": "unmanaged",
        "eksctl.cluster.k8s.io/v1alpha1/cluster-name": cluster,
        f"kubernetes.io/cluster/{cluster}": "owned",
        "Name": f"{cluster}-{ng['name']}-Node",
        **{k: str(v) for k, v in (ng.get("tags") or {}).items()},
    }


def _create_asg(region: str, cluster: str, ng: dict, stack_tags: dict, image: str, types: list, distribution: dict, subnets: list) -> None:
    """The launch template and Auto Scaling group eksctl's CloudFormation stack makes for a self-managed nodegroup."""
    template_name = f"eksctl-{cluster}-nodegroup-{ng['name']}"
    ec2 = client("ec2", region)
    data = {
        "ImageId": image,
        "InstanceType": types[0],
        "BlockDeviceMappings": [{
            "DeviceName": "/dev/xvda",
            "Ebs": {"VolumeSize": int(ng.get("volumeSize", 80)), "VolumeType": ng.get("volumeType", "gp3"), "Encrypted": bool(ng.get("volumeEncrypted", False))},
        }],
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 2},
    }
    tag_list = [{"Key": k, "Value": str(v)} for k, v in _asg_tags(cluster, ng).items()]
    ec2.create_launch_template(
        LaunchTemplateName=template_name, LaunchTemplateData=data,
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": tag_list}],
    )
    launch = {"LaunchTemplateName": template_name, "Version": "$Latest"}
    sizes = dict(MinSize=int(stack_tags[TAG + "min-size"]), MaxSize=int(stack_tags[TAG + "max-size"]), DesiredCapacity=int(stack_tags[TAG + "desired-capacity"]))
    common = dict(AutoScalingGroupName=stack_tags[TAG + "asg-name"], VPCZoneIdentifier=",".join(subnets), **sizes,
                  Tags=[{**t, "PropagateAtLaunch": True} for t in tag_list])
    if distribution:
        policy = {"LaunchTemplate": {"LaunchTemplateSpecification": launch, "Overrides": [{"InstanceType": t} for t in types]},
                  "InstancesDistribution": {DISTRIBUTION_KEYS[k]: v for k, v in distribution.items() if k in DISTRIBUTION_KEYS}}
        client("autoscaling", region).create_auto_scaling_group(MixedInstancesPolicy=policy, **common)
    else:
        client("autoscaling", region).create_auto_scaling_group(LaunchTemplate=launch, **common)


def _delete_asg(region: str, cluster: str, name: str, asg_name) -> None:
    autoscaling = client("autoscaling", region)
    if asg_name:
        try:
            autoscaling.delete_auto_scaling_group(AutoScalingGroupName=asg_name, ForceDelete=True)
        except Exception as e:  # already gone (a rerun after a failure)
            if "not found" not in str(e).lower() and "ValidationError" not in str(e):
                raise
    ec2 = client("ec2", region)
    try:
        ec2.delete_launch_template(LaunchTemplateName=f"eksctl-{cluster}-nodegroup-{name}")
    except Exception as e:
        if "NotFound" not in str(e) and "does not exist" not in str(e):
            raise


def create_nodegroup(args):
    flags, _ = parse_flags(
        args,
        {"config-file", "include", "exclude", "cluster", "region", "timeout"},
        {"dry-run", "skip-outdated-addons-check", "update-auth-configmap", "install-nvidia-plugin"},
    )
    config = load_config(flags.get("config-file"))
    region = region_from(flags, config)
    if flags.get("dry-run"):
        print(json.dumps(config, indent=2))
        return 0
    return create_from_config(config, region, flags.get("include"), flags.get("exclude"))


def _require_cluster(region: str, name) -> None:
    if not name:
        raise Fail("--cluster=<name> must be set")
    existing_cluster(region, name)


def get_nodegroup(args):
    flags, positional = parse_flags(args, {"cluster", "region", "name", "output"}, set())
    region = region_from(flags)
    _require_cluster(region, flags.get("cluster"))
    name = flags.get("name") or (positional[0] if positional else None)
    rows = [
        {k: v for k, v in ng.items() if k not in ("Labels", "Taints")}
        for ng in nodegroups(region, flags["cluster"])
        if name is None or ng["Name"] == name
    ]
    if name and not rows:
        raise Fail(f'nodegroup "{name}" not found in cluster "{flags["cluster"]}"')
    if flags.get("output") in ("json", "yaml"):
        print(json.dumps(rows, indent=4))
    else:
        print("CLUSTER\tNODEGROUP\tSTATUS\tCREATED\tMIN SIZE\tMAX SIZE\tDESIRED CAPACITY\tINSTANCE TYPE\tIMAGE ID\tTYPE")
        for r in rows:
            print(f"{r['Cluster']}\t{r['Name']}\t{r['Status']}\t{r['CreationTime']}\t{r['MinSize']}\t{r['MaxSize']}\t"
                  f"{r['DesiredCapacity']}\t{r['InstanceType']}\t{r['ImageID']}\t{r['NodeGroupType']}")
    return 0


def nodegroups_for_delete(region: str, cluster: str) -> list:
    return nodegroups(region, cluster)


def delete_one(region: str, cluster: str, ng: dict) -> None:
    stack = get_stack(region, nodegroup_stack_name(cluster, ng["Name"]))
    if ng["NodeGroupType"] == "managed":
        client("eks", region).delete_nodegroup(clusterName=cluster, nodegroupName=ng["Name"])
    else:
        _delete_asg(region, cluster, ng["Name"], ng.get("AutoScalingGroupName"))
    if stack is not None:
        if tags_of(stack).get(TAG + "role-created") == "true":
            delete_role(iam_name(f"eksctl-{cluster}-nodegroup-{ng['Name']}-NodeInstanceRole"))
        delete_stack(region, stack["StackName"])


def delete_nodegroup(args):
    flags, positional = parse_flags(
        args,
        {"cluster", "region", "name", "config-file", "include", "exclude", "max-grace-period", "timeout",
         "parallel", "pod-eviction-wait-period"},
        {"drain", "approve", "wait", "only-missing", "disable-eviction", "update-auth-configmap"},
    )
    config = config_if_given(flags)
    region = region_from(flags, config)
    cluster = cluster_name(flags, config)
    _require_cluster(region, cluster)
    present = {ng["Name"]: ng for ng in nodegroups(region, cluster)}
    if config is not None:
        in_file = [ng["name"] for ng in (config.get("nodeGroups") or []) + (config.get("managedNodeGroups") or [])]
        if flags.get("only-missing"):
            names = [n for n in present if n not in in_file]
        else:
            names = [n for n in select(in_file, flags.get("include"), flags.get("exclude")) if n in present]
    else:
        name = flags.get("name") or (positional[0] if positional else None)
        if not name:
            raise Fail("--name=<nodegroup> must be set")
        if name not in present:
            raise Fail(f'nodegroup "{name}" not found in cluster "{cluster}"')
        names = [name]
    if flags.get("drain", True):
        info(f'will drain {len(names)} nodegroup(s) in cluster "{cluster}" (test double: no pods to evict)')
    if not flags.get("approve"):
        for name in names:
            info(f'(plan) would delete nodegroup "{name}"')
        warn("no changes were applied, run again with '--approve' to apply the changes")
        return 0
    for name in names:
        info(f'will delete stack "{nodegroup_stack_name(cluster, name)}"')
        delete_one(region, cluster, present[name])
    success(f"deleted {len(names)} nodegroup(s) from cluster \"{cluster}\"")
    return 0


def scale_nodegroup(args):
    """`eksctl scale nodegroup --cluster c --name ng [--nodes N] [--nodes-min m] [--nodes-max M]`, or `-f file` for all."""
    flags, positional = parse_flags(
        args,
        {"cluster", "name", "config-file", "nodes", "nodes-min", "nodes-max", "region", "timeout"},
        set(),
        short={"-n": "name", "-N": "nodes", "-m": "nodes-min", "-M": "nodes-max"},
    )
    config = load_config(flags["config-file"]) if flags.get("config-file") else None
    region = region_from(flags, config)
    cluster = flags.get("cluster") or ((config or {}).get("metadata") or {}).get("name")
    _require_cluster(region, cluster)
    name = flags.get("name") or (positional[0] if positional else None)
    wanted = {}
    for flag, key in (("nodes", "desiredCapacity"), ("nodes-min", "minSize"), ("nodes-max", "maxSize")):
        if flag in flags:
            try:
                wanted[key] = int(flags[flag])
            except ValueError:
                raise Fail(f'invalid argument "{flags[flag]}" for "--{flag}" flag: strconv.ParseInt: parsing "{flags[flag]}": invalid syntax')
    if name:
        if config is not None and not wanted:
            entries = {ng["name"]: ng for ng in (config.get("nodeGroups") or []) + (config.get("managedNodeGroups") or [])}
            if name not in entries:
                raise Fail(f'nodegroup "{name}" not found in the config file')
            wanted = {k: entries[name][k] for k in ("desiredCapacity", "minSize", "maxSize") if k in entries[name]}
        targets = [(name, wanted)]
    elif config is not None:
        targets = [(ng["name"], {k: ng[k] for k in ("desiredCapacity", "minSize", "maxSize") if k in ng})
                   for ng in (config.get("nodeGroups") or []) + (config.get("managedNodeGroups") or [])]
    else:
        raise Fail("--name=<nodegroup> must be set (or a config file with -f)")
    present = {ng["Name"]: ng for ng in nodegroups(region, cluster)}
    for ng_name, sizes in targets:
        if not sizes:
            raise Fail("at least one of minimum, maximum and desired nodes must be set")
        if any(v < 0 for v in sizes.values()):
            raise Fail("the number of nodes must be 0 or greater")
        if ng_name not in present:
            raise Fail(f'nodegroup "{ng_name}" not found in cluster "{cluster}"')
        live = present[ng_name]
        minimum = sizes.get("minSize", live["MinSize"])
        maximum = sizes.get("maxSize", live["MaxSize"])
        desired = sizes.get("desiredCapacity", min(max(live["DesiredCapacity"], minimum), maximum))
        if minimum > maximum:
            raise Fail(f"minimum number of nodes ({minimum}) cannot be greater than maximum number of nodes ({maximum})")
        if not minimum <= desired <= maximum:
            raise Fail(f"number of nodes must be within range of min nodes and max nodes (min {minimum}, max {maximum}, desired {desired})")
        info(f'scaling nodegroup "{ng_name}" in cluster {cluster}')
        if live["NodeGroupType"] == "managed":
            client("eks", region).update_nodegroup_config(
                clusterName=cluster, nodegroupName=ng_name,
                scalingConfig={"minSize": minimum, "maxSize": maximum, "desiredSize": desired},
            )
        else:
            client("autoscaling", region).update_auto_scaling_group(
                AutoScalingGroupName=live["AutoScalingGroupName"], MinSize=minimum, MaxSize=maximum, DesiredCapacity=desired,
            )
        success(f'nodegroup "{ng_name}" has been scaled (min {minimum}, max {maximum}, desired {desired})')
    return 0
