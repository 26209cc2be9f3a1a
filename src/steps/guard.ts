// The one guard in front of every destructive action (destroy, nodegroup roll, upgrade, and a
// converge change that deletes or drains): planned first, then confirmed by typing the cluster's
// name on a terminal (`--yes` in CI), and on a protected environment only with --allow-protected.
import { UserError } from "../core/errors.js";
import type { PlanEntry } from "./scheduler.js";

export interface DestructiveRequest {
  /** The environment acted on: its name and whether it is `protected: true`. */
  env: { name: string; protected: boolean };
  /** What would be destroyed or changed one way, one line each (from the plan). Empty: nothing to guard. */
  actions: readonly string[];
  /** What the user types to confirm: the cluster's name. */
  confirmWord: string;
  /** The command, for hints: "eksbox destroy --env prod". */
  command: string;
  yes?: boolean;
  allowProtected?: boolean;
  /** Asks on the terminal; undefined when there is none (CI, no TTY). */
  prompt?: (question: string) => Promise<string>;
  /** What has run already when this is asked part-way ("born is done"): a refusal then says so, not "nothing was changed". */
  after?: string;
}

/** Resolves when the actions may go ahead; throws a UserError (nothing changed) when they may not. */
export async function confirmDestructive(request: DestructiveRequest): Promise<void> {
  const { env, actions, confirmWord, command, after } = request;
  if (actions.length === 0) return;
  const list = actions.map((a) => `  - ${a}`).join("\n");
  const but = after !== undefined ? `${after}, but ` : "";
  if (env.protected && !request.allowProtected) {
    throw new UserError(`${but}environment ${env.name} is protected (protected: true); refusing to:\n${list}`, {
      hint: `if you really mean it: ${command} --allow-protected`,
    });
  }
  if (request.yes) return;
  if (!request.prompt) {
    throw new UserError(`${but}this needs a confirmation and there is no terminal to ask on; it would:\n${list}`, {
      hint: `read the plan, then pass --yes: ${command} --yes${env.protected ? " --allow-protected" : ""}`,
    });
  }
  const answer = (await request.prompt(`This will:\n${list}\nType the cluster's name (${confirmWord}) to go on: `)).trim();
  if (answer !== confirmWord) {
    throw new UserError(
      `"${answer}" is not "${confirmWord}"; ${after !== undefined ? `${after}, nothing else was changed` : "nothing was changed"}`,
    );
  }
}

/** The destructive actions in a plan: every step that would run with a `destructive` decision. */
export function destructiveActions(entries: readonly PlanEntry[]): string[] {
  return entries.flatMap((e) => (e.decision?.action === "run" && e.decision.destructive !== undefined ? [e.decision.destructive] : []));
}
