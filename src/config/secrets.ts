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
const privateKeyValue = /-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----/;

/** Well-known token shapes, by their published prefixes: found in any value, under any key. */
const tokenValues: { name: string; pattern: RegExp }[] = [
  { name: "a GitHub token", pattern: /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/ },
  { name: "a GitLab token", pattern: /\b(glpat|gldt|glrt|glptt|glsoat)-[A-Za-z0-9_-]{20,}/ },
  { name: "a Slack token", pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}/ },
  { name: "a Google API key", pattern: /\bAIza[A-Za-z0-9_-]{35}\b/ },
  { name: "a Stripe key", pattern: /\b[sr]k_(live|test)_[A-Za-z0-9]{20,}/ },
  { name: "an npm token", pattern: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { name: "a JSON web token", pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
];

/**
 * An AWS secret access key: 40 characters of base64 standing alone. A Git commit id is 40 lower-case
 * hex digits, so mixed case and a digit or / or + are required as well.
 */
function looksLikeAwsSecretKey(value: string): boolean {
  for (const match of value.matchAll(/(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g)) {
    const candidate = match[0];
    if (/[A-Z]/.test(candidate) && /[a-z]/.test(candidate) && /[0-9/+]/.test(candidate)) return true;
  }
  return false;
}

/** What kind of secret a value holds, or undefined. */
export function secretInValue(value: string): string | undefined {
  if (awsAccessKeyIdValue.test(value)) return "an AWS access key id";
  if (privateKeyValue.test(value)) return "a private key";
  for (const { name, pattern } of tokenValues) if (pattern.test(value)) return name;
  if (looksLikeAwsSecretKey(value)) return "what looks like an AWS secret access key";
  return undefined;
}

const awsHint = "remove it: use aws.profile (a named profile from ~/.aws/config) or the standard AWS_* environment variables";
const tokenHint = "remove it: put the token in an environment variable and name that variable in gitops.tokenEnv";
const valueTokenHint =
  "remove it: revoke the token (it may be in git history already), pass it in an environment variable (EKSBOX_PASS_ENV for task scripts, gitops.tokenEnv for flux), or read it at boot from a secret store";

export function findSecrets(value: unknown, path: KeyPath = []): SecretFinding[] {
  const found: SecretFinding[] = [];
  if (isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      const childPath = [...path, key];
      // Names of variables that hold secrets (gitops.tokenEnv) are fine; ARNs of KMS keys are not secrets.
      const namesAVariable = /Env$/.test(key);
      if (!namesAVariable && awsKeyName.test(key) && !/kms/i.test(key)) {
        found.push({
          path: childPath,
          message: "looks like an AWS credential; credentials are not accepted in config files",
          hint: awsHint,
        });
      } else if (!namesAVariable && otherSecretName.test(key)) {
        found.push({ path: childPath, message: "looks like a secret; secrets are not accepted in config files", hint: tokenHint });
      } else {
        found.push(...findSecrets(child, childPath));
      }
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => found.push(...findSecrets(item, [...path, index])));
  } else if (typeof value === "string") {
    const kind = secretInValue(value);
    if (kind === "an AWS access key id" || kind === "what looks like an AWS secret access key" || kind === "a private key") {
      found.push({ path, message: `holds ${kind}; credentials are not accepted in config files`, hint: awsHint });
    } else if (kind) {
      found.push({ path, message: `holds ${kind}; secrets are not accepted in config files`, hint: valueTokenHint });
    }
  }
  return found;
}
