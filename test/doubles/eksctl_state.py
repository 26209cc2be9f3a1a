# What the eksctl TEST DOUBLE keeps in moto, and how to read it back. Everything lives in moto (no
# local files), so state survives across toolbox containers and disappears with the cluster, as it
# does with the real eksctl. Shared with kube-apiserver.py, which derives Node objects from it.
import hashlib
import json

from doublelib import client, cluster_not_found

DOUBLE_VERSION = "0.230.0-test-double"
TAG = "eksbox-test-double/"  # prefix of tags only the double reads
ACTIVE_STACK_STATUSES = [
    "CREATE_IN_PROGRESS", "CREATE_COMPLETE", "CREATE_FAILED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED", "DELETE_IN_PROGRESS", "DELETE_FAILED", "UPDATE_IN_PROGRESS", "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
]


def cluster_stack_name(cluster: str) -> str:
    return f"eksctl-{cluster}-cluster"


def nodegroup_stack_name(cluster: str, nodegroup: str) -> str:
    return f"eksctl-{cluster}-nodegroup-{nodegroup}"


def iamsa_stack_name(cluster: str, namespace: str, name: str) -> str:
    return f"eksctl-{cluster}-addon-iamserviceaccount-{namespace}-{name}"


def iam_name(name: str) -> str:
    """IAM role names are at most 64 characters: shorten long ones with a hash, as CloudFormation does."""
    if len(name) <= 64:
        return name
    return name[:55].rstrip("-") + "-" + hashlib.sha1(name.encode()).hexdigest()[:8].upper()


def describe_cluster(region: str, name: str):
    eks = client("eks", region)
    try:
        return eks.describe_cluster(name=name)["cluster"]
    except eks.exceptions.ResourceNotFoundException:
        return None


def existing_cluster(region: str, name) -> dict:
    """The cluster as EKS describes it; eksctl's not-found error when there is none (or no name)."""
    cluster = describe_cluster(region, name) if name else None
    if cluster is None:
        raise cluster_not_found(name)
    return cluster


def list_clusters(region: str) -> list:
    return client("eks", region).list_clusters().get("clusters", [])


def get_stack(region: str, name: str):
    cfn = client("cloudformation", region)
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except Exception as e:  # moto answers ValidationError for a stack that does not exist
        if "does not exist" in str(e):
            return None
        raise
    stack = stacks[0] if stacks else None
    if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
        return None
    return stack


def stacks_with_prefix(region: str, prefix: str) -> list:
    cfn = client("cloudformation", region)
    names = sorted(
        summary["StackName"]
        for page in cfn.get_paginator("list_stacks").paginate(StackStatusFilter=ACTIVE_STACK_STATUSES)
        for summary in page["StackSummaries"]
        if summary["StackName"].startswith(prefix)
    )
    return [s for s in (get_stack(region, n) for n in names) if s is not None]


def tags_of(stack: dict) -> dict:
    return {t["Key"]: t["Value"] for t in stack.get("Tags", [])}


def outputs_of(stack: dict) -> dict:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def create_stack(region: str, name: str, tags: dict, outputs: dict, description: str) -> dict:
    """A stack moto accepts that carries what real eksctl's would in tags and outputs (no real resources)."""
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"{description} [created by the eksctl TEST DOUBLE {DOUBLE_VERSION}]",
        "Resources": {"TestDoublePlaceholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": {key: {"Value": str(value)} for key, value in outputs.items() if str(value) != ""},
    }
    cfn = client("cloudformation", region)
    cfn.create_stack(
        StackName=name,
        TemplateBody=json.dumps(template),
        Tags=[{"Key": k, "Value": str(v)} for k, v in tags.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    return get_stack(region, name)


def delete_stack(region: str, name: str) -> None:
    client("cloudformation", region).delete_stack(StackName=name)


def delete_role(name: str) -> None:
    """Detaches policies then deletes the role; a role already gone is fine (reruns after a failure)."""
    iam = client("iam", "us-east-1")
    try:
        for policy in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
        iam.delete_role(RoleName=name)
    except iam.exceptions.NoSuchEntityException:
        pass


def create_role(name: str, trust: dict, tags: dict, policies=()) -> str:
    iam = client("iam", "us-east-1")
    try:
        arn = iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust),
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
        )["Role"]["Arn"]
    for policy in policies:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy)
    return arn


def missing_policies(arns) -> list:
    """The policy ARNs IAM does not know, checked before creating anything that attaches them."""
    iam = client("iam", "us-east-1")
    missing = []
    for arn in arns:
        try:
            iam.get_policy(PolicyArn=arn)
        except iam.exceptions.NoSuchEntityException:
            missing.append(arn)
    return missing


def service_trust(service: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def oidc_provider_of(region: str, cluster: str):
    """ARN of the OIDC provider the double created for `cluster`, found by its tag."""
    iam = client("iam", region)
    for provider in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]:
        tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=provider["Arn"]).get("Tags", [])
        if {"Key": "alpha.eksctl.io/cluster-name", "Value": cluster} in tags:
            return provider["Arn"]
    return None


def nodegroups(region: str, cluster: str) -> list:
    """Every nodegroup of a cluster in `eksctl get nodegroup -o json`'s shape (self-managed, then managed)."""
    info = describe_cluster(region, cluster)
    version = (info or {}).get("version", "")
    result = []
    # Sizes come from the Auto Scaling groups, as real eksctl reads them: one call for the cluster's.
    groups = {}
    for page in client("autoscaling", region).get_paginator("describe_auto_scaling_groups").paginate(
        Filters=[{"Name": "tag:alpha.eksctl.io/cluster-name", "Values": [cluster]}]
    ):
        for group in page["AutoScalingGroups"]:
            groups[group["AutoScalingGroupName"]] = group
    for stack in stacks_with_prefix(region, f"eksctl-{cluster}-nodegroup-"):
        tags = tags_of(stack)
        if tags.get("alpha.eksctl.io/nodegroup-type") != "unmanaged":
            continue
        group = groups.get(tags[TAG + "asg-name"])
        if group is not None:
            tags = {**tags, TAG + "min-size": group["MinSize"], TAG + "max-size": group["MaxSize"], TAG + "desired-capacity": group["DesiredCapacity"]}
        result.append({
            "StackName": stack["StackName"],
            "Cluster": cluster,
            "Name": tags["alpha.eksctl.io/nodegroup-name"],
            "Status": stack["StackStatus"],
            "MaxSize": int(tags[TAG + "max-size"]),
            "MinSize": int(tags[TAG + "min-size"]),
            "DesiredCapacity": int(tags[TAG + "desired-capacity"]),
            "InstanceType": tags[TAG + "instance-type"],
            "ImageID": tags[TAG + "image-id"],
            "CreationTime": _iso(stack["CreationTime"]),
            "NodeInstanceRoleARN": tags[TAG + "instance-role-arn"],
            "AutoScalingGroupName": tags[TAG + "asg-name"],
            "Version": tags.get(TAG + "version", version),
            "NodeGroupType": "unmanaged",
            "Labels": json.loads(tags.get(TAG + "labels", "{}")),
            "Taints": json.loads(tags.get(TAG + "taints", "[]")),
        })
    if info is not None:
        eks = client("eks", region)
        for name in eks.list_nodegroups(clusterName=cluster).get("nodegroups", []):
            ng = eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]
            scaling = ng.get("scalingConfig", {})
            result.append({
                "StackName": nodegroup_stack_name(cluster, name),
                "Cluster": cluster,
                "Name": name,
                "Status": ng["status"],
                "MaxSize": scaling.get("maxSize", 0),
                "MinSize": scaling.get("minSize", 0),
                "DesiredCapacity": scaling.get("desiredSize", 0),
                "InstanceType": ",".join(ng.get("instanceTypes") or []),
                "ImageID": ng.get("amiType", ""),
                "CreationTime": _iso(ng["createdAt"]),
                "NodeInstanceRoleARN": ng.get("nodeRole", ""),
                "AutoScalingGroupName": ",".join(
                    g["name"] for g in (ng.get("resources") or {}).get("autoScalingGroups", [])
                ),
                "Version": ng.get("version", version),
                "NodeGroupType": "managed",
                "Labels": ng.get("labels") or {},
                "Taints": [
                    {"key": t["key"], "value": t.get("value", ""), "effect": _TAINT_EFFECTS.get(t["effect"], t["effect"])}
                    for t in ng.get("taints") or []
                ],
            })
    return result


_TAINT_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "PREFER_NO_SCHEDULE": "PreferNoSchedule", "NO_EXECUTE": "NoExecute"}


def _iso(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(value, "strftime") else str(value)
