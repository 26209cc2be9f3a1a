// Runs a command in the test toolbox the way eksbox does: workspace mounted as the working
// directory, host network (to reach moto and the kube API stand-in), a non-root uid, fake credentials.
import { FAKE_AWS_ENV } from "../../support/aws-cli.js";
import { runInTestImage } from "../../support/test-toolbox.js";

export interface ToolboxCommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ToolboxRunOptions {
  image: string;
  workspace: string;
  motoUrl: string;
  region: string;
  env?: Record<string, string>;
  /** Not root, as eksbox runs it: proves the doubles need no root. */
  user?: string;
  /** Container name, for tests that signal it while it runs. */
  name?: string;
}

export async function runInToolbox(options: ToolboxRunOptions, argv: string[]): Promise<ToolboxCommandResult> {
  const env: Record<string, string> = {
    ...FAKE_AWS_ENV,
    AWS_REGION: options.region,
    AWS_DEFAULT_REGION: options.region,
    AWS_ENDPOINT_URL: options.motoUrl,
    KUBECONFIG: "/workspace/build/dev/kubeconfig",
    ...options.env,
  };
  const result = await runInTestImage(
    options.image,
    {
      purpose: "doubles",
      env,
      dockerArgs: [
        "--user",
        options.user ?? "12345:12345",
        ...(options.name ? ["--name", options.name] : []),
        "--volume",
        `${options.workspace}:/workspace`,
        "--workdir",
        "/workspace",
      ],
    },
    argv,
  );
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}
