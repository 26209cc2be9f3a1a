// Masks secret values before anything reaches a terminal, an event or a run log. Secrets are
// known by value (from the variables that hold them, plus any added explicitly), because a
// command can print a credential in any shape: JSON, an error message, a debug dump.

export const REDACTED = "***";

/** Shorter values are not masked: masking "1" or "abc" would shred ordinary output. */
const MIN_SECRET_LENGTH = 4;

const alwaysSecretNames = new Set(["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECURITY_TOKEN"]);

/** Variable names whose values are treated as secrets wherever they appear. */
export function isSecretName(name: string): boolean {
  const upper = name.toUpperCase();
  return alwaysSecretNames.has(upper) || upper.endsWith("_TOKEN") || upper.includes("_SECRET") || upper.includes("PASSWORD");
}

export class Redactor {
  private readonly secrets = new Set<string>();
  /** Longest first, so a secret that contains another is masked whole. */
  private ordered: string[] = [];

  /** Collects the values of every secret-looking variable in `env`. */
  static fromEnv(env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>): Redactor {
    const redactor = new Redactor();
    redactor.addFromEnv(env);
    return redactor;
  }

  addFromEnv(env: NodeJS.ProcessEnv | Readonly<Record<string, string | undefined>>): this {
    for (const [name, value] of Object.entries(env)) {
      if (value !== undefined && isSecretName(name)) this.add(value);
    }
    return this;
  }

  /** A multi-line secret (a PEM key) is also masked line by line, since output is handled a line at a time. */
  add(secret: string): this {
    for (const part of [secret, ...secret.split(/\r?\n/)]) {
      const value = part.trim() === part ? part : part.trim();
      if (value.length >= MIN_SECRET_LENGTH && !this.secrets.has(value)) this.secrets.add(value);
    }
    this.ordered = [...this.secrets].sort((a, b) => b.length - a.length);
    return this;
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.ordered) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  }

  /**
   * How many trailing characters of `text` could be the start of a secret and must be held back
   * until more output arrives (for raw, unbuffered streams such as an interactive shell).
   */
  pendingPrefixLength(text: string): number {
    let longest = 0;
    for (const secret of this.ordered) {
      const max = Math.min(secret.length - 1, text.length);
      for (let len = max; len > longest; len--) {
        if (text.endsWith(secret.slice(0, len))) {
          longest = len;
          break;
        }
      }
    }
    return longest;
  }
}

/**
 * A raw (not line-based) redacting filter for interactive output: it passes text through at once
 * except the shortest tail that might begin a secret, which waits for the next chunk or `flush`.
 */
export function createChunkRedactor(redactor: Redactor, write: (text: string) => void): { push(chunk: string): void; flush(): void } {
  let held = "";
  return {
    push(chunk) {
      const text = redactor.redact(held + chunk);
      const keep = redactor.pendingPrefixLength(text);
      held = text.slice(text.length - keep);
      const ready = text.slice(0, text.length - keep);
      if (ready) write(ready);
    },
    flush() {
      if (held) write(redactor.redact(held));
      held = "";
    },
  };
}

/** A writer that masks secrets line by line before passing lines on: for run logs and plain output. */
export function createLineRedactor(redactor: Redactor, writeLine: (line: string) => void): { push(chunk: string): void; flush(): void } {
  let partial = "";
  return {
    push(chunk) {
      const lines = (partial + chunk).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) writeLine(redactor.redact(line));
    },
    flush() {
      if (partial) writeLine(redactor.redact(partial));
      partial = "";
    },
  };
}
