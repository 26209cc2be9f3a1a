// The REAL aws CLI of the test toolbox image, pointed at moto (through the EKS stand-in): how tests check what the doubles (and
// eksbox) left in "AWS", independently of the doubles' own read-back code.
import { runInTestImage } from "./test-toolbox.js";

export const FAKE_AWS_ENV = {
  AWS_ACCESS_KEY_ID: "AKIAEKSBOXTESTFAKE00",
  AWS_SECRET_ACCESS_KEY: "eksbox-test-fake-secret",
  AWS_SESSION_TOKEN: "eksbox-test-fake-session",
} as const;

/**
 * Runs `aws --endpoint-url <moto> --output json <args>` in a throwaway container (host network) and
 * returns the parsed JSON (null when the command prints nothing). Pass `--region` in args to choose
 * a region (default us-east-1). Throws with aws's stderr when it exits non-zero.
 */
export async function awsCli(image: string, motoUrl: string, args: string[], opts: { cli?: "debian" | "v1" } = {}): Promise<any> {
  const env = { ...FAKE_AWS_ENV, AWS_DEFAULT_REGION: "us-east-1", AWS_PAGER: "" };
  const result = await runInTestImage(
    image,
    {
      purpose: "aws-cli",
      env,
      // Debian's 2.9 by default (independent of the v1 eksbox runs); v1 for the EKS APIs 2.9 does not know.
      entrypoint: opts.cli === "v1" ? "/opt/awscli-v1/bin/aws" : "/usr/bin/aws",
    },
    ["--endpoint-url", motoUrl, "--output", "json", ...args],
  );
  if (result.exitCode !== 0) {
    throw new Error(`aws ${args.join(" ")} exited ${result.exitCode}: ${result.stderr.trim()}`);
  }
  return result.stdout.trim() === "" ? null : JSON.parse(result.stdout);
}
