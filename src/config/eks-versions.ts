// The Kubernetes versions Amazon EKS has, with their dates (UTC). Shared by the config check (a
// version EKS does not have is refused) and the support calendar.
//
// Taken from AWS's "Amazon EKS Kubernetes release calendar" (EKS User Guide, "Understand the
// Kubernetes version lifecycle on EKS"; awsdocs/amazon-eks-user-guide, latest/ug/versioning/
// kubernetes-versions.adoc) for 1.29-1.34, and for 1.28 and 1.35 from the same calendar as
// republished by endoflife.date/amazon-eks, both as they stood in February 2026. Update this
// table when AWS publishes a new version (and the toolbox's eksctl supports it).

export const EKS_VERSIONS_TAKEN_ON = "2026-02-14";

export interface EksVersion {
  version: string;
  /** Amazon EKS release (not the upstream Kubernetes release). */
  released: string;
  endOfStandardSupport: string;
  endOfExtendedSupport: string;
}

export const EKS_VERSIONS: readonly EksVersion[] = [
  { version: "1.35", released: "2026-01-28", endOfStandardSupport: "2027-03-27", endOfExtendedSupport: "2028-03-27" },
  { version: "1.34", released: "2025-10-02", endOfStandardSupport: "2026-12-02", endOfExtendedSupport: "2027-12-02" },
  { version: "1.33", released: "2025-05-29", endOfStandardSupport: "2026-07-29", endOfExtendedSupport: "2027-07-29" },
  { version: "1.32", released: "2025-01-23", endOfStandardSupport: "2026-03-23", endOfExtendedSupport: "2027-03-23" },
  { version: "1.31", released: "2024-09-26", endOfStandardSupport: "2025-11-26", endOfExtendedSupport: "2026-11-26" },
  { version: "1.30", released: "2024-05-23", endOfStandardSupport: "2025-07-23", endOfExtendedSupport: "2026-07-23" },
  { version: "1.29", released: "2024-01-23", endOfStandardSupport: "2025-03-23", endOfExtendedSupport: "2026-03-23" },
  { version: "1.28", released: "2023-09-26", endOfStandardSupport: "2024-11-26", endOfExtendedSupport: "2025-11-26" },
];

export function eksVersion(version: string): EksVersion | undefined {
  return EKS_VERSIONS.find((v) => v.version === version);
}

/** "1.28 … 1.35": for messages. */
export function eksVersionRange(): string {
  return `${EKS_VERSIONS.at(-1)!.version} … ${EKS_VERSIONS[0]!.version}`;
}
