// The EKS stand-in in front of moto, driven by the real AWS CLI (v1) of the test toolbox image: it
// serves the EKS APIs moto lacks per cluster, as EKS answers them, and forwards everything else to moto.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsCli } from "../../support/aws-cli.js";
import { seedInsights, startMoto, type MotoServer } from "../../support/moto.js";
import { ensureTestToolboxImage } from "../../support/test-toolbox.js";

const region = "eu-west-1";
let moto: MotoServer;
let image: string;
const aws = (...args: string[]) => awsCli(image, moto.url, [...args, "--region", region], { cli: "v1" });

beforeAll(async () => {
  [image, moto] = await Promise.all([ensureTestToolboxImage(), startMoto()]);
});

afterAll(async () => {
  await moto?.stop();
});

describe("the EKS stand-in", { timeout: 600_000 }, () => {
  it("keeps access config and entries per cluster, updates them asynchronously as EKS does, refuses going back from API, and forwards the rest to moto", async () => {
    const role = (await aws("iam", "create-role", "--role-name", "standin-eks", "--assume-role-policy-document", "{}")).Role.Arn;
    await aws(
      "eks",
      "create-cluster",
      "--name",
      "sa",
      "--role-arn",
      role,
      "--resources-vpc-config",
      "subnetIds=subnet-1,subnet-2",
      "--access-config",
      "authenticationMode=API_AND_CONFIG_MAP",
    );
    const described = (await aws("eks", "describe-cluster", "--name", "sa")).cluster;
    expect(described.roleArn).toBe(role); // moto's answer, forwarded
    expect(described.accessConfig).toEqual({ authenticationMode: "API_AND_CONFIG_MAP", bootstrapClusterCreatorAdminPermissions: true });
    const creator = "arn:aws:iam::123456789012:user/moto";
    expect((await aws("eks", "list-access-entries", "--cluster-name", "sa")).accessEntries).toEqual([creator]);

    const { update } = await aws("eks", "update-cluster-config", "--name", "sa", "--access-config", "authenticationMode=API");
    expect(update).toMatchObject({ type: "AccessConfigUpdate", status: "InProgress" });
    await expect(aws("eks", "update-cluster-config", "--name", "sa", "--upgrade-policy", "supportType=STANDARD")).rejects.toThrow(
      /ResourceInUseException.*currently has update .* in progress/,
    );
    expect((await aws("eks", "describe-cluster", "--name", "sa")).cluster).toMatchObject({
      status: "UPDATING",
      accessConfig: { authenticationMode: "API_AND_CONFIG_MAP" },
    });
    const describeUpdate = async () => (await aws("eks", "describe-update", "--name", "sa", "--update-id", update.id)).update.status;
    expect([await describeUpdate(), await describeUpdate(), await describeUpdate()]).toEqual(["InProgress", "Successful", "Successful"]);
    expect((await aws("eks", "describe-cluster", "--name", "sa")).cluster).toMatchObject({
      status: "ACTIVE",
      accessConfig: { authenticationMode: "API" },
    });
    await expect(
      aws("eks", "update-cluster-config", "--name", "sa", "--access-config", "authenticationMode=API_AND_CONFIG_MAP"),
    ).rejects.toThrow(/Unsupported authentication mode update from API to API_AND_CONFIG_MAP/);
    await expect(aws("eks", "create-access-entry", "--cluster-name", "nope", "--principal-arn", creator)).rejects.toThrow(
      /ResourceNotFoundException/,
    );
  });

  it("serves pod identity associations, cluster versions and seeded insights", async () => {
    const createWeb = () =>
      aws(
        "eks",
        "create-pod-identity-association",
        "--cluster-name",
        "sa",
        "--namespace",
        "apps",
        "--service-account",
        "web",
        "--role-arn",
        "arn:aws:iam::123456789012:role/web",
      );
    const created = (await createWeb()).association;
    await expect(createWeb()).rejects.toThrow(/ResourceInUseException/);
    await aws(
      "eks",
      "update-pod-identity-association",
      "--cluster-name",
      "sa",
      "--association-id",
      created.associationId,
      "--role-arn",
      "arn:aws:iam::123456789012:role/web2",
    );
    const described = (
      await aws("eks", "describe-pod-identity-association", "--cluster-name", "sa", "--association-id", created.associationId)
    ).association;
    expect(described.roleArn).toBe("arn:aws:iam::123456789012:role/web2");

    const versions = (await aws("eks", "describe-cluster-versions", "--cluster-versions", "1.34")).clusterVersions;
    expect(versions.map((v: { clusterVersion: string }) => v.clusterVersion)).toEqual(["1.34"]);

    await seedInsights(moto, region, "sa", [
      {
        id: "i-1",
        name: "Deprecated APIs",
        category: "UPGRADE_READINESS",
        kubernetesVersion: "1.35",
        lastRefreshTime: 1_700_000_000,
        insightStatus: { status: "ERROR", reason: "in use" },
      },
      {
        id: "i-2",
        name: "Other",
        category: "MISCONFIGURATION",
        kubernetesVersion: "1.35",
        lastRefreshTime: 1_700_000_000,
        insightStatus: { status: "PASSING", reason: "" },
      },
    ]);
    const listed = (await aws("eks", "list-insights", "--cluster-name", "sa", "--filter", "categories=UPGRADE_READINESS")).insights;
    expect(listed.map((i: { id: string }) => i.id)).toEqual(["i-1"]);
    expect((await aws("eks", "describe-insight", "--cluster-name", "sa", "--id", "i-1")).insight.insightStatus.status).toBe("ERROR");
  });
});
