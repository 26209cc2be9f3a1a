import { describe, expect, it } from "vitest";
import { buildContainerEnv } from "../../../src/runtime/container-env.js";

const base = { home: "/home/eksbox" };

describe("container environment", () => {
  it("forwards the allowlist, AWS_ENDPOINT_URL* and proxies, nothing else", () => {
    const env = buildContainerEnv({
      ...base,
      processEnv: {
        AWS_ACCESS_KEY_ID: "AKIA",
        AWS_SECRET_ACCESS_KEY: "secret",
        AWS_SESSION_TOKEN: "token",
        AWS_ENDPOINT_URL_STS: "http://127.0.0.1:5000",
        HTTPS_PROXY: "http://proxy:3128",
        no_proxy: "169.254.169.254",
        TERM: "xterm-256color",
        PATH: "/host/bin",
        HOME: "/root",
        GITHUB_TOKEN: "ghp_x",
      },
    });
    expect(env).toEqual({
      AWS_ACCESS_KEY_ID: "AKIA",
      AWS_SECRET_ACCESS_KEY: "secret",
      AWS_SESSION_TOKEN: "token",
      AWS_ENDPOINT_URL_STS: "http://127.0.0.1:5000",
      HTTPS_PROXY: "http://proxy:3128",
      no_proxy: "169.254.169.254",
      TERM: "xterm-256color",
      HOME: "/home/eksbox",
      EKSBOX_IN_TOOLBOX: "1",
    });
  });

  it("EKSBOX_PASS_ENV forwards more names, ignoring junk", () => {
    const env = buildContainerEnv({
      ...base,
      processEnv: { EKSBOX_PASS_ENV: "EKSBOX_TEST_A, EKSBOX_TEST_B,,bad-name", EKSBOX_TEST_A: "1", EKSBOX_TEST_B: "2" },
    });
    expect(env.EKSBOX_TEST_A).toBe("1");
    expect(env.EKSBOX_TEST_B).toBe("2");
  });

  it("passEnv forwards named variables that are set, beside EKSBOX_PASS_ENV (the gitops token)", () => {
    const env = buildContainerEnv({
      ...base,
      processEnv: { EKSBOX_PASS_ENV: "EKSBOX_TEST_A", EKSBOX_TEST_A: "1", GITHUB_TOKEN: "t0ken", OTHER: "x" },
      passEnv: ["GITHUB_TOKEN", "GITLAB_TOKEN"],
    });
    expect(env.GITHUB_TOKEN).toBe("t0ken");
    expect(env.EKSBOX_TEST_A).toBe("1");
    expect("GITLAB_TOKEN" in env).toBe(false);
    expect("OTHER" in env).toBe(false);
  });

  it("the environment's config wins over the shell for profile, region and endpoint", () => {
    const env = buildContainerEnv({
      ...base,
      processEnv: { AWS_PROFILE: "shell", AWS_REGION: "us-east-1", AWS_DEFAULT_REGION: "us-east-1", AWS_ENDPOINT_URL: "http://other" },
      aws: { profile: "prod", region: "ap-northeast-1", endpointUrl: "http://127.0.0.1:5000" },
      envName: "prod",
      kubeconfig: "/ws/build/prod/kubeconfig",
    });
    expect(env).toMatchObject({
      AWS_PROFILE: "prod",
      AWS_REGION: "ap-northeast-1",
      AWS_DEFAULT_REGION: "ap-northeast-1",
      AWS_ENDPOINT_URL: "http://127.0.0.1:5000",
      KUBECONFIG: "/ws/build/prod/kubeconfig",
      EKSBOX_ENV: "prod",
    });
  });

  it("an empty profile in the config keeps the shell's", () => {
    expect(buildContainerEnv({ ...base, processEnv: { AWS_PROFILE: "sso-dev" }, aws: { profile: "" } }).AWS_PROFILE).toBe("sso-dev");
  });
});
