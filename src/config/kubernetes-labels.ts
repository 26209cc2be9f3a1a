// Kubernetes' syntax for label keys and values, which taints take too (k8s.io/apimachinery
// validation.IsQualifiedName, IsValidLabelValue), and the labels it reserves. eksctl and the API
// server apply these; eksbox checks them on the config (config/rules.ts, against the key the user
// wrote) and on the rendered files (render/eksctl-rules.ts, which also holds for hand-edited
// templates). One home for the rules; each layer words its own messages from the faults named here.

/** What is wrong with a name (a key's part after '/', or a value): the first rule it breaks. */
export type NameFault = { kind: "empty" } | { kind: "too-long"; length: number } | { kind: "characters" } | { kind: "ends" };

/** What is wrong with a label or taint key, [prefix/]name. */
export type QualifiedNameFault = { part: "slashes" } | { part: "prefix"; prefix: string } | { part: "name"; fault: NameFault };

export const MAX_NAME_LENGTH = 63;
const MAX_PREFIX_LENGTH = 253;
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const NAME_CHARACTERS = /^[-A-Za-z0-9_.]*$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export const TAINT_EFFECTS: readonly string[] = ["NoSchedule", "PreferNoSchedule", "NoExecute"];

export function nameFault(name: string): NameFault | undefined {
  if (name.length === 0) return { kind: "empty" };
  if (name.length > MAX_NAME_LENGTH) return { kind: "too-long", length: name.length };
  if (!NAME_CHARACTERS.test(name)) return { kind: "characters" };
  if (!NAME.test(name)) return { kind: "ends" };
  return undefined;
}

export function qualifiedNameFault(key: string): QualifiedNameFault | undefined {
  const parts = key.split("/");
  if (parts.length > 2) return { part: "slashes" };
  const [prefix, name] = parts.length === 2 ? (parts as [string, string]) : [undefined, key];
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > MAX_PREFIX_LENGTH || !DNS_SUBDOMAIN.test(prefix))) {
    return { part: "prefix", prefix };
  }
  const fault = nameFault(name);
  return fault ? { part: "name", fault } : undefined;
}

/** A label (or taint) value: empty, or a name. */
export function labelValueFault(value: string): NameFault | undefined {
  return value === "" ? undefined : nameFault(value);
}

// Labels kubelet sets itself may be given; any other under kubernetes.io or k8s.io is reserved.
const kubeletLabels = new Set([
  "kubernetes.io/hostname",
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
  "kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
]);
const underDomain = (namespace: string, domain: string) => namespace === domain || namespace.endsWith(`.${domain}`);

/** A node label key under kubernetes.io/ or k8s.io/ that kubelet does not let a node set for itself. */
export function isReservedNodeLabel(key: string): boolean {
  const namespace = key.includes("/") ? key.split("/")[0]! : "";
  const reserved = ["kubernetes.io", "k8s.io"].some((d) => underDomain(namespace, d));
  const kubeletMay = kubeletLabels.has(key) || ["kubelet.kubernetes.io", "node.kubernetes.io"].some((d) => underDomain(namespace, d));
  return reserved && !kubeletMay;
}

// The wording of config problems (config/rules.ts): the hint states the rule, the message the fault.
export const LABEL_KEY_RULE =
  "Kubernetes label and taint keys are [prefix/]name: name up to 63 characters, letters, digits, '-', '_' and '.', beginning and ending with a letter or digit; prefix a lower-case DNS subdomain up to 253 characters";
export const LABEL_VALUE_RULE =
  "Kubernetes label and taint values are empty or up to 63 characters: letters, digits, '-', '_' and '.', beginning and ending with a letter or digit";

function describeNameFault(fault: NameFault, what: "name" | "value"): string {
  switch (fault.kind) {
    case "empty":
      return "has an empty name";
    case "too-long":
      return what === "name"
        ? `has a name of ${fault.length} characters (${MAX_NAME_LENGTH} characters at most)`
        : `is ${fault.length} characters (${MAX_NAME_LENGTH} characters at most)`;
    case "characters":
      return "may hold only letters, digits, '-', '_' and '.'";
    case "ends":
      return "must begin and end with a letter or digit";
  }
}

/** A config label or taint key's problem, to follow `label key "<key>" `; undefined when it is valid. */
export function qualifiedNameProblem(key: string): string | undefined {
  const fault = qualifiedNameFault(key);
  if (!fault) return undefined;
  if (fault.part === "slashes") return "must be prefix/name, with one '/'";
  if (fault.part === "prefix") return `has a prefix (${fault.prefix}) that is not a lower-case DNS subdomain`;
  return describeNameFault(fault.fault, "name");
}

/** A config label or taint value's problem, to follow `label value `; undefined when it is valid. */
export function labelValueProblem(value: string): string | undefined {
  const fault = labelValueFault(value);
  return fault ? describeNameFault(fault, "value") : undefined;
}
