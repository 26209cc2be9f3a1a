// A nodegroup's launch-time spec, as a short hash recorded on the nodegroup itself (a tag eksctl puts
// on the Auto Scaling group / EKS nodegroup). Whatever is baked into a launch template (instance
// types, AMI, volume, kubelet settings, self-managed labels and taints, IAM, security groups, spot,
// bootstrap commands, tags) can only change by a new nodegroup, so converge compares this hash with
// the re-rendered one to say a roll is needed. What can change in place is left out: the name (it
// carries the version), the zone (one nodegroup per zone), the sizes, and a managed nodegroup's labels
// and taints (EKS updates those on the nodegroup).
import { createHash } from "node:crypto";
import type { Document } from "yaml";
import { isPlainObject } from "../config/merge.js";
import { yamlLibrary } from "../config/yaml-lib.js";

export const SPEC_HASH_TAG = "eksbox.io/spec-hash";

const IN_PLACE_FIELDS = ["name", "availabilityZones", "minSize", "maxSize", "desiredCapacity"];
const MANAGED_IN_PLACE_FIELDS = ["labels", "taints"];

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isPlainObject(value)) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical(value[key])]),
    );
  }
  return value;
}

export function nodegroupSpecHash(nodegroup: Record<string, unknown>, managed: boolean): string {
  const spec: Record<string, unknown> = { ...nodegroup, managed };
  for (const field of [...IN_PLACE_FIELDS, ...(managed ? MANAGED_IN_PLACE_FIELDS : [])]) delete spec[field];
  if (isPlainObject(spec.tags)) {
    const { [SPEC_HASH_TAG]: _recorded, ...tags } = spec.tags;
    spec.tags = tags;
  }
  return createHash("sha256")
    .update(JSON.stringify(canonical(spec)))
    .digest("hex")
    .slice(0, 16);
}

const SECTIONS = [
  ["nodeGroups", false],
  ["managedNodeGroups", true],
] as const;

/**
 * Adds the spec-hash tag to every nodegroup of a rendered nodegroups file, in the document and in
 * its text (comments and layout kept). Returns the hashes by nodegroup name.
 */
export function addSpecHashTags(text: string, document: Record<string, unknown>): { text: string; hashes: Map<string, string> } {
  const tagged = addSpecHashTagsToDocument(() => yamlLibrary().parseDocument(text, { keepSourceTokens: false }), document);
  return { text: tagged.yaml ? tagged.yaml.toString({ lineWidth: 0 }) : text, hashes: tagged.hashes };
}

/**
 * addSpecHashTags on yaml's Document of the text, for a caller that already parsed it: `yaml` is the
 * edited Document (print it with `toString({ lineWidth: 0 })`), or undefined when there was nothing
 * to tag and the text stands as it is. `parsed` is called only when there is something to edit.
 */
export function addSpecHashTagsToDocument(
  parsed: () => Document,
  document: Record<string, unknown>,
): { yaml: Document | undefined; hashes: Map<string, string> } {
  const hashes = new Map<string, string>();
  const edits: { path: (string | number)[]; hash: string; hasTags: boolean }[] = [];
  for (const [section, managed] of SECTIONS) {
    const list = document[section];
    if (!Array.isArray(list)) continue;
    list.forEach((nodegroup, index) => {
      if (!isPlainObject(nodegroup)) return;
      const hash = nodegroupSpecHash(nodegroup, managed);
      hashes.set(String(nodegroup.name), hash);
      edits.push({ path: [section, index], hash, hasTags: isPlainObject(nodegroup.tags) });
      nodegroup.tags = { ...(isPlainObject(nodegroup.tags) ? nodegroup.tags : {}), [SPEC_HASH_TAG]: hash };
    });
  }
  if (edits.length === 0) return { yaml: undefined, hashes };
  const doc = parsed();
  for (const edit of edits) {
    if (!edit.hasTags) doc.setIn([...edit.path, "tags"], doc.createNode({}));
    doc.setIn([...edit.path, "tags", SPEC_HASH_TAG], doc.createNode(edit.hash));
  }
  return { yaml: doc, hashes };
}
