// SIGINT, SIGTERM and SIGHUP to the CLI while each born step runs: every time the run stops with
// exit 130 and a resume command, leaves no container, lock or half-written file, and the rerun
// completes. A slow eksctl/flux double (.eksbox-test/slow) holds the step open for the signal.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeTestProject, type TestProject } from "../reliability/support/project.js";
import { actWhen, BORN_EXTRA, expectCleanAfterFailure, GITHUB_TOKEN, lastRunStatus, slowDown, useChaosSuite } from "./support.js";

type Prepare = (project: TestProject, env: string) => Promise<void>;

/** born to the end, then a change that gives `step` work again (create cluster also makes the kubeconfig and service accounts). */
const afterBorn =
  (change: Prepare): Prepare =>
  async (project, env) => {
    const first = await project.run(["born", "--env", env], { env: suite.cloud.cliEnv({ GITHUB_TOKEN }), timeoutMs: 300_000 });
    expect(first.exitCode, first.stderr).toBe(0);
    await change(project, env);
  };

// step id, the double's argv fragment to slow (undefined: the step is the real aws CLI, caught as it starts), set-up
const STEPS: [step: string, fragment: string | undefined, prepare?: Prepare][] = [
  ["preflight", undefined],
  ["cluster", "create cluster"],
  ["nodegroups", "create nodegroup"],
  [
    "serviceaccounts",
    "create iamserviceaccount",
    afterBorn((project, env) =>
      project.writeEnv(env, {
        endpointUrl: suite.cloud.moto.url,
        extra: BORN_EXTRA.replace("gitops:", SECOND_SERVICE_ACCOUNT + "gitops:"),
      }),
    ),
  ],
  ["kubeconfig", "write-kubeconfig", afterBorn((project, env) => rm(join(project.root, "build", env, "kubeconfig")))],
  ["gitops", "bootstrap"],
];
const SECOND_SERVICE_ACCOUNT = `  - name: cert-manager
    namespace: cert-manager
    attachPolicyARNs: ["arn:aws:iam::aws:policy/AmazonRoute53FullAccess"]
`;
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

const suite = useChaosSuite("faults: signal cases");

describe.concurrent.each(SIGNALS)("%s", (signal) => {
  it.each(STEPS)(
    `while step %s runs: exit 130, clean, rerun completes`,
    async (step, fragment, prepare) => {
      const env = `sig-${signal.slice(3).toLowerCase()}-${step}`;
      suite.envs.push(env);
      const project = await makeTestProject(`eksbox-chaos-${env}-`);
      suite.projects.push(project);
      await project.writeEnv(env, { endpointUrl: suite.cloud.moto.url, extra: BORN_EXTRA });
      await prepare?.(project, env);
      if (fragment) await slowDown(project, 60, fragment);
      const cliEnv = suite.cloud.cliEnv({ GITHUB_TOKEN, EKSBOX_INTERRUPT_GRACE_SECONDS: "15" });

      const child = project.spawn(["born", "--env", env], { env: cliEnv, timeoutMs: 300_000 });
      const trigger = fragment ? /injected delay/ : new RegExp(`\\[${step}\\] start`);
      // process.kill, not child.kill: execa follows its kill with a SIGKILL after 5 s, which would
      // cut eksbox's graceful stop short on a loaded machine.
      const stopped = await actWhen(child, trigger, () => void process.kill(child.pid!, signal));
      expect(stopped.acted, `never saw ${trigger}:\n${stopped.stderr}`).toBe(true);
      expect(stopped.exitCode, stopped.stderr).toBe(130);
      expect(stopped.stderr).toContain("interrupt");
      expect(stopped.stderr).toContain(`resume with: eksbox born --env ${env}`);
      expect(stopped.stderr).not.toContain("internal error");
      expect(await lastRunStatus(project, env)).toBe("aborted");
      await expectCleanAfterFailure(project, env, suite.cloud);

      const rerun = await project.run(["born", "--env", env], { env: cliEnv, timeoutMs: 300_000 });
      expect(rerun.exitCode, rerun.stderr).toBe(0);
      expect(await suite.cloud.clusters()).toContain(env);
      await expectCleanAfterFailure(project, env, suite.cloud);
      suite.cases++;
    },
    600_000,
  );
});
