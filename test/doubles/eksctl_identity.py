# Pod identity associations and access entries of the eksctl TEST DOUBLE:
#   eksctl create/get/update/delete podidentityassociation, eksctl create/get/delete accessentry,
#   eksctl utils migrate-to-pod-identity, and the iam.podIdentityAssociations / accessConfig parts
#   of `eksctl create cluster`.
# Debian's botocore 1.29 in the test image predates these EKS APIs, so the double calls their REST
# paths itself (SigV4-signed with botocore's signer) on AWS_ENDPOINT_URL, where the EKS stand-in
# (test/doubles/eks_standin.py) serves them in front of moto. Departures from eksctl: no Kubernetes
# ServiceAccount objects (createServiceAccount and IRSA annotations are not simulated); the migration
# finds IRSA service accounts from eksctl's iamserviceaccount stacks instead of the cluster.
import base64
import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request

from doublelib import Fail, client, info, load_config, parse_flags, region_from, success, warn
from eksctl_upgrade import ADDON_TAG  # where the double keeps addons
from eksctl_state import TAG, create_role, create_stack, delete_role, delete_stack, describe_cluster, iam_name, stacks_with_prefix, tags_of, outputs_of

AGENT = "eks-pod-identity-agent"
POD_IDENTITY_TRUST = {
    "Effect": "Allow",
    "Principal": {"Service": "pods.eks.amazonaws.com"},
    "Action": ["sts:AssumeRole", "sts:TagSession"],
}


def eks_rest(region: str, method: str, path: str, body=None):
    """One EKS REST call through AWS_ENDPOINT_URL; returns the parsed JSON; raises Fail like eksctl on API errors."""
    import botocore.session
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest

    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise Fail("AWS_ENDPOINT_URL is not set: this test double only talks to the local emulator, never to real AWS")
    data = json.dumps(body).encode() if body is not None else None
    url = endpoint.rstrip("/") + path
    request = AWSRequest(method=method, url=url, data=data, headers={"Content-Type": "application/json"} if data else {})
    credentials = botocore.session.get_session().get_credentials()
    if credentials is None:
        raise Fail("no AWS credentials")
    SigV4Auth(credentials, "eks", region).add_auth(request)
    prepared = urllib.request.Request(url, data=data, method=method, headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=60) as response:
            text = response.read()
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")
        try:
            message = json.loads(detail).get("message", detail)
        except ValueError:
            message = detail
        code = e.headers.get("x-amzn-ErrorType", str(e.code))
        raise Fail(f"operation error EKS: {method} {path}, https response error StatusCode: {e.code}, {code}: {message}")
    return json.loads(text or b"{}")


def q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def _cluster_or_fail(region: str, name) -> dict:
    cluster = describe_cluster(region, name) if name else None
    if cluster is None:
        raise Fail(f"ResourceNotFoundException: No cluster found for name: {name}.")
    return cluster


def agent_installed(cluster: dict) -> bool:
    return (ADDON_TAG + AGENT) in (cluster.get("tags") or {})


# ---- pod identity associations ---------------------------------------------------------------
def list_associations(region: str, cluster: str) -> list:
    rows = eks_rest(region, "GET", f"/clusters/{q(cluster)}/pod-identity-associations").get("associations") or []
    return [eks_rest(region, "GET", f"/clusters/{q(cluster)}/pod-identity-associations/{q(r['associationId'])}")["association"] for r in rows]


def _role_stack(cluster: str, namespace: str, name: str) -> str:
    return f"eksctl-{cluster}-podidentityrole-{namespace}-{name}"


def create_association(region: str, cluster: str, pia: dict) -> None:
    namespace, name = pia.get("namespace") or "default", pia.get("serviceAccountName")
    if not name:
        raise Fail("serviceAccountName must be set")
    role_arn = pia.get("roleARN")
    if not role_arn:
        policies = pia.get("permissionPolicyARNs") or []
        if not policies and not pia.get("wellKnownPolicies") and not pia.get("permissionPolicy"):
            raise Fail(f"at least one of the following must be specified: roleARN, permissionPolicy, permissionPolicyARNs, wellKnownPolicies (pod identity association {namespace}/{name})")
        role_name = pia.get("roleName") or iam_name(f"eksctl-{cluster}-podidentityrole-{namespace}-{name}-Role1")
        trust = {"Version": "2012-10-17", "Statement": [POD_IDENTITY_TRUST]}
        role_arn = create_role(role_name, trust, {"alpha.eksctl.io/cluster-name": cluster}, policies)
        create_stack(region, _role_stack(cluster, namespace, name),
                     {"alpha.eksctl.io/cluster-name": cluster, TAG + "role-name": role_name, "alpha.eksctl.io/podidentityassociation-name": f"{namespace}/{name}"},
                     {"Role1": role_arn}, f"IAM role for pod identity association {namespace}/{name}")
    body = {"namespace": namespace, "serviceAccount": name, "roleArn": role_arn}
    if pia.get("targetRoleARN"):
        body["targetRoleArn"] = pia["targetRoleARN"]
    if pia.get("disableSessionTags"):
        body["disableSessionTags"] = True
    eks_rest(region, "POST", f"/clusters/{q(cluster)}/pod-identity-associations", body)
    info(f'created pod identity association for service account "{namespace}/{name}"')


def create_associations_from_config(config: dict, region: str) -> None:
    cluster = config["metadata"]["name"]
    for pia in (config.get("iam") or {}).get("podIdentityAssociations") or []:
        create_association(region, cluster, pia)


def require_agent_in_config(config: dict) -> None:
    """eksctl's create-cluster check: associations need the agent addon in the config file."""
    if (config.get("iam") or {}).get("podIdentityAssociations") and not any(a.get("name") == AGENT for a in config.get("addons") or []):
        raise Fail(f'{AGENT} addon is required for pod identity associations; please add "{AGENT}" addon to the config file')


def create_podidentityassociation(args):
    flags, _ = parse_flags(
        args,
        {"config-file", "cluster", "region", "namespace", "service-account-name", "role-arn", "role-name", "permission-boundary-arn",
         "target-role-arn", "permission-policy-arns", "well-known-policies", "tags", "timeout"},
        {"create-service-account", "disable-session-tags"},
    )
    config = load_config(flags["config-file"]) if flags.get("config-file") else None
    if config is not None and any(flags.get(k) for k in ("cluster", "namespace", "service-account-name", "role-arn")):
        raise Fail("cannot use --cluster, --namespace, --service-account-name or --role-arn when --config-file/-f is set")
    region = region_from(flags, config)
    name = flags.get("cluster") or ((config or {}).get("metadata") or {}).get("name")
    if not name:
        raise Fail("--cluster must be set")
    cluster = _cluster_or_fail(region, name)
    if not agent_installed(cluster):
        raise Fail(f"{AGENT} addon is not installed; please enable it using `eksctl create addon --cluster={name} --name={AGENT}`")
    if config is not None:
        entries = (config.get("iam") or {}).get("podIdentityAssociations") or []
        if not entries:
            raise Fail("no iam.podIdentityAssociations specified in the config file")
        for pia in entries:
            create_association(region, name, pia)
        return 0
    if not flags.get("namespace") or not flags.get("service-account-name"):
        raise Fail("--namespace and --service-account-name must be set")
    pia = {
        "namespace": flags["namespace"], "serviceAccountName": flags["service-account-name"], "roleARN": flags.get("role-arn"),
        "roleName": flags.get("role-name"), "targetRoleARN": flags.get("target-role-arn"),
        "permissionPolicyARNs": [p for p in (flags.get("permission-policy-arns") or "").split(",") if p],
        "disableSessionTags": flags.get("disable-session-tags", False),
    }
    if pia["roleARN"] and pia["permissionPolicyARNs"]:
        raise Fail("--permission-policy-arns cannot be specified when --role-arn is set")
    create_association(region, name, pia)
    return 0


def get_podidentityassociation(args):
    flags, _ = parse_flags(args, {"cluster", "region", "namespace", "service-account-name", "output", "config-file", "chunk-size", "timeout"}, set())
    region = region_from(flags)
    name = flags.get("cluster")
    _cluster_or_fail(region, name)
    rows = [
        {"AssociationARN": a["associationArn"], "Namespace": a["namespace"], "ServiceAccountName": a["serviceAccount"],
         "RoleARN": a["roleArn"], "OwnerARN": a.get("ownerArn", "")}
        for a in list_associations(region, name)
        if flags.get("namespace") in (None, a["namespace"]) and flags.get("service-account-name") in (None, a["serviceAccount"])
    ]
    if flags.get("output") in ("json", "yaml"):
        print(json.dumps(rows, indent=4))
    else:
        print("ASSOCIATION ARN\tNAMESPACE\tSERVICE ACCOUNT NAME\tIAM ROLE ARN\tOWNER ARN")
        for r in rows:
            print(f"{r['AssociationARN']}\t{r['Namespace']}\t{r['ServiceAccountName']}\t{r['RoleARN']}\t{r['OwnerARN']}")
    return 0


def _find_association(region: str, cluster: str, namespace: str, name: str) -> dict:
    for a in list_associations(region, cluster):
        if a["namespace"] == namespace and a["serviceAccount"] == name:
            return a
    raise Fail(f'pod identity association "{namespace}/{name}" not found')


def update_podidentityassociation(args):
    flags, _ = parse_flags(
        args, {"config-file", "cluster", "name", "region", "namespace", "service-account-name", "role-arn", "target-role-arn", "timeout"},
        {"disable-session-tags", "no-disable-session-tags"},
    )
    config = load_config(flags["config-file"]) if flags.get("config-file") else None
    region = region_from(flags, config)
    cluster = flags.get("cluster") or flags.get("name") or ((config or {}).get("metadata") or {}).get("name")
    _cluster_or_fail(region, cluster)
    if config is not None:
        wanted = (config.get("iam") or {}).get("podIdentityAssociations") or []
    else:
        if not flags.get("namespace") or not flags.get("service-account-name"):
            raise Fail("--namespace and --service-account-name must be set")
        if not flags.get("role-arn") and "target-role-arn" not in flags and not flags.get("disable-session-tags") and not flags.get("no-disable-session-tags"):
            raise Fail("at least one of --role-arn, --target-role-arn, --disable-session-tags must be set")
        wanted = [{"namespace": flags["namespace"], "serviceAccountName": flags["service-account-name"], "roleARN": flags.get("role-arn"), "targetRoleARN": flags.get("target-role-arn")}]
    for pia in wanted:
        namespace, name = pia.get("namespace") or "default", pia["serviceAccountName"]
        current = _find_association(region, cluster, namespace, name)
        body = {}
        if pia.get("roleARN"):
            body["roleArn"] = pia["roleARN"]
        elif pia.get("permissionPolicyARNs") is not None and config is not None:
            _update_policies(region, cluster, namespace, name, pia.get("permissionPolicyARNs") or [])
        if "targetRoleARN" in pia and (config is None and "target-role-arn" in flags or config is not None):
            body["targetRoleArn"] = pia.get("targetRoleARN") or ""
        if flags.get("disable-session-tags"):
            body["disableSessionTags"] = True
        if flags.get("no-disable-session-tags"):
            body["disableSessionTags"] = False
        if body:
            eks_rest(region, "POST", f"/clusters/{q(cluster)}/pod-identity-associations/{q(current['associationId'])}", body)
        info(f'updated pod identity association "{namespace}/{name}"')
    return 0


def _update_policies(region: str, cluster: str, namespace: str, name: str, wanted: list) -> None:
    stacks = [s for s in stacks_with_prefix(region, _role_stack(cluster, namespace, name)) if s["StackName"] == _role_stack(cluster, namespace, name)]
    if not stacks:
        raise Fail(f'pod identity association "{namespace}/{name}": its role was not created by eksctl, so its policies cannot be updated')
    role_name = tags_of(stacks[0]).get(TAG + "role-name")
    iam = client("iam", region)
    attached = {p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]}
    for arn in set(wanted) - attached:
        iam.attach_role_policy(RoleName=role_name, PolicyArn=arn)
    for arn in attached - set(wanted):
        iam.detach_role_policy(RoleName=role_name, PolicyArn=arn)


def delete_podidentityassociation(args):
    flags, _ = parse_flags(args, {"cluster", "region", "namespace", "service-account-name", "config-file", "timeout"}, set())
    region = region_from(flags)
    cluster = flags.get("cluster")
    _cluster_or_fail(region, cluster)
    a = _find_association(region, cluster, flags.get("namespace") or "default", flags.get("service-account-name"))
    eks_rest(region, "DELETE", f"/clusters/{q(cluster)}/pod-identity-associations/{q(a['associationId'])}")
    stack = _role_stack(cluster, a["namespace"], a["serviceAccount"])
    for s in stacks_with_prefix(region, stack):
        if s["StackName"] == stack:
            delete_role(tags_of(s).get(TAG + "role-name"))
            delete_stack(region, stack)
    success(f'deleted pod identity association "{a["namespace"]}/{a["serviceAccount"]}"')
    return 0


# ---- access entries ---------------------------------------------------------------------------
def access_entry_stack(cluster: str, principal: str) -> str:
    digest = base64.b32encode(hashlib.sha1(principal.encode()).digest()).decode().rstrip("=")
    return f"eksctl-{cluster}-accessentry-{digest}"


def create_access_entry(region: str, cluster: str, entry: dict) -> None:
    principal = entry.get("principalARN")
    if not principal:
        raise Fail("accessEntries[].principalARN must be set")
    body = {"principalArn": principal, "kubernetesGroups": entry.get("kubernetesGroups") or []}
    if entry.get("type"):
        body["type"] = entry["type"]
    if entry.get("kubernetesUsername"):
        body["username"] = entry["kubernetesUsername"]
    eks_rest(region, "POST", f"/clusters/{q(cluster)}/access-entries", body)
    for policy in entry.get("accessPolicies") or []:
        scope = policy.get("accessScope") or {}
        eks_rest(region, "POST", f"/clusters/{q(cluster)}/access-entries/{q(principal)}/access-policies",
                 {"policyArn": policy["policyARN"], "accessScope": {"type": scope.get("type", "cluster"), "namespaces": scope.get("namespaces") or []}})
    create_stack(region, access_entry_stack(cluster, principal), {"alpha.eksctl.io/cluster-name": cluster, TAG + "principal-arn": principal},
                 {}, f"access entry for {principal}")
    info(f'created access entry for "{principal}"')


def create_access_entries_from_config(config: dict, region: str) -> None:
    cluster = config["metadata"]["name"]
    for entry in (config.get("accessConfig") or {}).get("accessEntries") or []:
        create_access_entry(region, cluster, entry)


def _mode(region: str, cluster: str) -> str:
    described = eks_rest(region, "GET", f"/clusters/{q(cluster)}")["cluster"]
    return (described.get("accessConfig") or {}).get("authenticationMode", "CONFIG_MAP")


def create_accessentry(args):
    flags, _ = parse_flags(args, {"config-file", "cluster", "region", "principal-arn", "type", "kubernetes-groups", "kubernetes-username", "timeout"}, set())
    config = load_config(flags["config-file"]) if flags.get("config-file") else None
    region = region_from(flags, config)
    cluster = flags.get("cluster") or ((config or {}).get("metadata") or {}).get("name")
    _cluster_or_fail(region, cluster)
    if _mode(region, cluster) == "CONFIG_MAP":
        raise Fail("access entries API is not enabled for this cluster; change authenticationMode to API_AND_CONFIG_MAP or API first")
    if config is not None:
        entries = (config.get("accessConfig") or {}).get("accessEntries") or []
        existing = {s["StackName"] for s in stacks_with_prefix(region, f"eksctl-{cluster}-accessentry-")}
        todo = [e for e in entries if access_entry_stack(cluster, e.get("principalARN", "")) not in existing]
        if not todo:
            info("access entries already up-to-date")
            return 0
        for entry in todo:
            create_access_entry(region, cluster, entry)
        return 0
    if not flags.get("principal-arn"):
        raise Fail("--principal-arn must be set")
    create_access_entry(region, cluster, {
        "principalARN": flags["principal-arn"], "type": flags.get("type"),
        "kubernetesGroups": [g for g in (flags.get("kubernetes-groups") or "").split(",") if g],
        "kubernetesUsername": flags.get("kubernetes-username"),
    })
    return 0


def get_accessentry(args):
    flags, _ = parse_flags(args, {"cluster", "region", "principal-arn", "output", "config-file", "chunk-size"}, set())
    region = region_from(flags)
    cluster = flags.get("cluster")
    _cluster_or_fail(region, cluster)
    principals = [flags["principal-arn"]] if flags.get("principal-arn") else eks_rest(region, "GET", f"/clusters/{q(cluster)}/access-entries").get("accessEntries") or []
    rows = []
    for principal in principals:
        entry = eks_rest(region, "GET", f"/clusters/{q(cluster)}/access-entries/{q(principal)}")["accessEntry"]
        policies = eks_rest(region, "GET", f"/clusters/{q(cluster)}/access-entries/{q(principal)}/access-policies").get("associatedAccessPolicies") or []
        row = {"principalARN": principal}
        if entry.get("kubernetesGroups"):
            row["kubernetesGroups"] = entry["kubernetesGroups"]
        row["accessPolicies"] = [
            {"policyARN": p["policyArn"], "accessScope": {k: v for k, v in {"type": p["accessScope"]["type"], "namespaces": p["accessScope"].get("namespaces") or None}.items() if v}}
            for p in policies
        ]
        if not row["accessPolicies"]:
            del row["accessPolicies"]
        rows.append(row)
    if flags.get("output") in ("json", "yaml"):
        print(json.dumps(rows, indent=4))
    else:
        print("PRINCIPAL ARN\tKUBERNETES GROUPS\tACCESS POLICY ARN")
        for r in rows:
            print(f"{r['principalARN']}\t{','.join(r.get('kubernetesGroups') or [])}\t{','.join(p['policyARN'] for p in r.get('accessPolicies') or [])}")
    return 0


def delete_accessentry(args):
    flags, _ = parse_flags(args, {"cluster", "region", "principal-arn", "config-file", "timeout"}, set())
    region = region_from(flags)
    cluster = flags.get("cluster")
    _cluster_or_fail(region, cluster)
    if not flags.get("principal-arn"):
        raise Fail("--principal-arn must be set")
    eks_rest(region, "DELETE", f"/clusters/{q(cluster)}/access-entries/{q(flags['principal-arn'])}")
    delete_stack(region, access_entry_stack(cluster, flags["principal-arn"]))
    success(f'deleted access entry for "{flags["principal-arn"]}"')
    return 0


# ---- eksctl utils migrate-to-pod-identity -----------------------------------------------------
def migrate_to_pod_identity(args):
    flags, _ = parse_flags(args, {"cluster", "region", "timeout"}, {"approve", "remove-oidc-provider-trust-relationship"})
    region = region_from(flags)
    name = flags.get("cluster")
    if not name:
        raise Fail("--cluster must be set")
    cluster = _cluster_or_fail(region, name)
    import eksctl_upgrade
    associated = {(a["namespace"], a["serviceAccount"]) for a in list_associations(region, name)}
    todo = []
    for stack in stacks_with_prefix(region, f"eksctl-{name}-addon-iamserviceaccount-"):
        full = tags_of(stack).get("alpha.eksctl.io/iamserviceaccount-name", "")
        namespace, _, sa = full.partition("/")
        if (namespace, sa) not in associated:
            todo.append((namespace, sa, outputs_of(stack).get("Role1", ""), tags_of(stack).get(TAG + "role-name")))
    plan = ([f"install {AGENT} addon"] if not agent_installed(cluster) else []) + [
        f'update trust policy of role "{role}" and create pod identity association for "{ns}/{sa}"' for ns, sa, role, _ in todo
    ]
    for line in plan:
        info(("(plan) " if not flags.get("approve") else "") + line)
    if not plan:
        info("no IRSA service accounts left to migrate")
        return 0
    if not flags.get("approve"):
        warn("no changes were applied, run again with '--approve' to apply the changes")
        return 0
    if not agent_installed(cluster):
        eksctl_upgrade.record_addons(region, cluster, [{"name": AGENT}])
    iam = client("iam", region)
    for namespace, sa, role_arn, role_name in todo:
        if role_name:
            trust = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
            if isinstance(trust, str):
                trust = json.loads(urllib.parse.unquote(trust))
            statements = [s for s in trust.get("Statement", []) if not (flags.get("remove-oidc-provider-trust-relationship") and "Federated" in (s.get("Principal") or {}))]
            if POD_IDENTITY_TRUST not in statements:
                statements.append(POD_IDENTITY_TRUST)
            iam.update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
        eks_rest(region, "POST", f"/clusters/{q(name)}/pod-identity-associations", {"namespace": namespace, "serviceAccount": sa, "roleArn": role_arn})
        info(f'migrated service account "{namespace}/{sa}" to pod identity (test double: no Kubernetes annotation removed)')
    success(f"migrated {len(todo)} service account(s) to pod identity")
    return 0
