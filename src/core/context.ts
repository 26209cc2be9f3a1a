import type { EventSink } from "./events.js";
import type { Interrupter } from "./interrupt.js";

/** What every command function gets from the CLI. Commands return data or write results to `stdout`; core modules only emit events. */
export interface CommandContext {
  /** Where config/, templates/, build/ and .eksbox/ live. */
  projectRoot: string;
  events: EventSink;
  interrupter: Interrupter;
  /** For a command's result (a table, a reference, JSON), not for progress. */
  stdout: NodeJS.WritableStream;
  output: "text" | "json";
  /** Process environment the command may read (tests pass their own). */
  processEnv: NodeJS.ProcessEnv;
  /** Asks the user a question on the terminal; undefined when there is no one to ask (CI, no TTY). */
  ask?: (question: string) => Promise<string>;
}
