# `eksctl create/get/delete iamserviceaccount` of the eksctl TEST DOUBLE: the IAM role (IRSA trust on the
# cluster's OIDC provider) and the stack eksctl keeps per service account. The Kubernetes
# ServiceAccount object itself is not simulated.
import fnmatch
import json

from doublelib import Fail, client, cluster_name, config_if_given, info, load_config, parse_flags, region_from, success, warn
from eksctl_state import (
    TAG, create_role, create_stack, delete_role, delete_stack, describe_cluster, existing_cluster, iam_name,
    iamsa_stack_name,
    missing_policies, oidc_provider_of, outputs_of, stacks_with_prefix, tags_of,
)

NAME_TAG = "alpha.eksctl.io/iamserviceaccount-name"


def _trust(provider_arn: str, namespace: str, name: str) -> dict:
    issuer = provider_arn.split(":oidc-provider/", 1)[1]
    return {
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {
                f"{issuer}:sub": f"system:serviceaccount:{namespace}:{name}",
                f"{issuer}:aud": "sts.amazonaws.com",
            }},
        }],
    }


def _entries(config: dict, include, exclude) -> list:
    entries = []
    for index, sa in enumerate((config.get("iam") or {}).get("serviceAccounts") or []):
        meta = sa.get("metadata") or {}
        if not meta.get("name"):
            raise Fail(f"iam.serviceAccounts[{index}].metadata.name must be set")
        entries.append((f"{meta.get('namespace') or 'default'}/{meta['name']}", sa))
    names = [n for n, _ in entries]
    if include:
        for pattern in include.split(","):
            if pattern and not any(fnmatch.fnmatchcase(n, pattern) for n in names):
                raise Fail(f'--include "{pattern}" matches no iam.serviceAccounts entry (they are: {", ".join(names)})')
        entries = [(n, sa) for n, sa in entries if any(fnmatch.fnmatchcase(n, p) for p in include.split(",") if p)]
    if exclude:
        entries = [(n, sa) for n, sa in entries if not any(fnmatch.fnmatchcase(n, p) for p in exclude.split(",") if p)]
    return entries


def create_from_config(config: dict, region: str, include, approve: bool, exclude=None) -> int:
    cluster = config["metadata"]["name"]
    if describe_cluster(region, cluster) is None:
        raise Fail(f'getting cluster "{cluster}": ResourceNotFoundException: No cluster found for name: {cluster}.')
    provider = oidc_provider_of(region, cluster)
    if provider is None:
        raise Fail(
            f'unable to create iamserviceaccount(s) without IAM OIDC provider enabled; '
            f'set iam.withOIDC: true when creating cluster "{cluster}" or run `eksctl utils associate-iam-oidc-provider`'
        )
    existing = {tags_of(s).get(NAME_TAG) for s in stacks_with_prefix(region, f"eksctl-{cluster}-addon-iamserviceaccount-")}
    entries = _entries(config, include, exclude)
    skipped = [n for n, _ in entries if n in existing]
    if skipped:
        info(f"{len(skipped)} existing iamserviceaccount(s) ({','.join(skipped)}) will be excluded")
    todo = [(n, sa) for n, sa in entries if n not in existing]
    if not approve:
        for name, _ in todo:
            info(f'(plan) would create IAM role for serviceaccount "{name}"')
        warn("no changes were applied, run again with '--approve' to apply the changes")
        return 0
    for full_name, sa in todo:
        missing = missing_policies(sa.get("attachPolicyARNs") or [])
        if missing:
            raise Fail(f"iamserviceaccount {full_name}: attachPolicyARNs: policy {', '.join(missing)} does not exist")
    iam = client("iam", region)
    for full_name, sa in todo:
        namespace, name = full_name.split("/", 1)
        role_name = sa.get("roleName") or iam_name(f"eksctl-{cluster}-addon-iamserviceaccount-{namespace}-{name}")
        tags = {"alpha.eksctl.io/cluster-name": cluster, NAME_TAG: full_name, **(sa.get("tags") or {})}
        arn = create_role(role_name, _trust(provider, namespace, name), tags)
        for policy in sa.get("attachPolicyARNs") or []:
            iam.attach_role_policy(RoleName=role_name, PolicyArn=policy)
        if sa.get("attachPolicy"):
            iam.put_role_policy(RoleName=role_name, PolicyName="Policy1", PolicyDocument=json.dumps(sa["attachPolicy"]))
        create_stack(
            region,
            iamsa_stack_name(cluster, namespace, name),
            {**tags, TAG + "role-name": role_name},
            {"Role1": arn},
            f"IAM role for serviceaccount {full_name}",
        )
        info(f'created IAM role "{role_name}" for serviceaccount "{full_name}" (test double: no Kubernetes ServiceAccount object)')
    success(f"created {len(todo)} iamserviceaccount(s) in cluster \"{cluster}\"")
    return 0


def create_iamserviceaccount(args):
    flags, _ = parse_flags(
        args,
        {"config-file", "include", "exclude", "cluster", "region", "timeout"},
        {"approve", "override-existing-serviceaccounts", "role-only"},
    )
    config = load_config(flags.get("config-file"))
    region = region_from(flags, config)
    return create_from_config(config, region, flags.get("include"), flags.get("approve", False), flags.get("exclude"))


def _all(region: str, cluster: str) -> list:
    rows = []
    for stack in stacks_with_prefix(region, f"eksctl-{cluster}-addon-iamserviceaccount-"):
        full_name = tags_of(stack).get(NAME_TAG, "")
        namespace, _, name = full_name.partition("/")
        rows.append({
            "metadata": {"name": name, "namespace": namespace},
            "status": {"roleARN": outputs_of(stack).get("Role1", "")},
            "_stack": stack,
        })
    return rows


def get_iamserviceaccount(args):
    flags, _ = parse_flags(args, {"cluster", "region", "name", "namespace", "output"}, {"only-missing"})
    region = region_from(flags)
    cluster = flags.get("cluster")
    existing_cluster(region, cluster)
    rows = [
        {k: v for k, v in row.items() if k != "_stack"}
        for row in _all(region, cluster)
        if flags.get("name") in (None, row["metadata"]["name"]) and flags.get("namespace") in (None, row["metadata"]["namespace"])
    ]
    if flags.get("output") in ("json", "yaml"):
        print(json.dumps(rows, indent=4))
    else:
        print("NAMESPACE\tNAME\tROLE ARN")
        for row in rows:
            print(f"{row['metadata']['namespace']}\t{row['metadata']['name']}\t{row['status']['roleARN']}")
    return 0


def delete_one(region: str, stack: dict) -> None:
    role_name = tags_of(stack).get(TAG + "role-name")
    if role_name:
        delete_role(role_name)
    delete_stack(region, stack["StackName"])


def delete_iamserviceaccount(args):
    flags, _ = parse_flags(
        args, {"cluster", "region", "name", "namespace", "config-file", "include", "exclude", "timeout"},
        {"approve", "wait", "only-missing"},
    )
    config = config_if_given(flags)
    region = region_from(flags, config)
    cluster = cluster_name(flags, config)
    existing_cluster(region, cluster)
    rows = _all(region, cluster)
    if config is not None:
        wanted = {n for n, _ in _entries(config, flags.get("include"), flags.get("exclude"))}
    else:
        wanted = {f"{flags.get('namespace') or 'default'}/{flags.get('name')}"}
    chosen = [r for r in rows if f"{r['metadata']['namespace']}/{r['metadata']['name']}" in wanted]
    if not flags.get("approve"):
        warn("no changes were applied, run again with '--approve' to apply the changes")
        return 0
    for row in chosen:
        delete_one(region, row["_stack"])
    success(f"deleted {len(chosen)} iamserviceaccount(s)")
    return 0
