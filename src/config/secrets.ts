// Config lives in git. The 2020 setup kept awsAccessKeyId/awsSecretAccessKey in it; eksbox refuses
// anything that looks like a credential before any other check, and never repeats the value.
import type { KeyPath } from "./yaml-source.js";
import { isPlainObject } from "./merge.js";

export interface SecretFinding {
  path: KeyPath;
  message: string;
  hint: string;
}

const awsKeyName = /(access[-_]?key|secret|session[-_]?token|credential)/i;
const otherSecretName = /^(token|password|passwd|api[-_]?key|private[-_]?key|.*[-_]token|.*Token)$/;
const awsAccessKeyIdValue = /\b(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b/;
const privateKeyValue = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

const awsHint =
  "remove it: use aws.profile (a named profile from ~/.aws/config) or the standard AWS_* environment variables";
const tokenHint = "remove it: put the token in an environment variable and name that variable in gitops.tokenEnv";

export function findSecrets(value: unknown, path: KeyPath = []): SecretFinding[] {
  const found: SecretFinding[] = [];
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const childPath = [...path, key];
      // Names of variables that hold secrets (gitops.tokenEnv) are fine; ARNs of KMS keys are not secrets.
      const namesAVariable = /Env$/.test(key);
      if (!namesAVariable && awsKeyName.test(key) && !/kms/i.test(key)) {
        found.push({ path: childPath, message: "looks like an AWS credential; credentials are not accepted in config files", hint: awsHint });
      } else if (!namesAVariable && otherSecretName.test(key)) {
        found.push({ path: childPath, message: "looks like a secret; secrets are not accepted in config files", hint: tokenHint });
      } else {
        found.push(...findSecrets(child, childPath));
      }
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => found.push(...findSecrets(item, [...path, index])));
  } else if (typeof value === "string" && (awsAccessKeyIdValue.test(value) || privateKeyValue.test(value))) {
    found.push({ path, message: "holds what looks like an AWS access key or private key; credentials are not accepted in config files", hint: awsHint });
  }
  return found;
}
