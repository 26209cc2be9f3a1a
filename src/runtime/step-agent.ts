// Steps without an engine exec each. An exec costs the engine 70-90 ms on a small machine (runc
// setting up a process in the container's namespaces, bench/RESULTS.md), which is most of what a
// step costs. So each slot of a run keeps one long-lived exec: a POSIX shell loop (the "agent")
// that reads a command on its stdin, runs it with the agent's stdout and stderr, and then writes an
// end marker carrying the exit code on both streams. A step then costs a fork and an exec inside
// the container: a few milliseconds.
//
// The request travels on the exec's stdin, never in an argv: `sh -c 'eval "$(cat)"'` reads the
// step's script from a pipe, so values in it are not in any process's command line.
// The marker starts with a NUL byte followed by a random nonce per request: output is only ever
// held back while its last bytes could be the start of a marker, which text never is.
import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";
import type Dockerode from "dockerode";
import { InternalError } from "../core/errors.js";
import { shellWord } from "../core/shell-quote.js";
import { execExitCode } from "./exec-status.js";
import { createDemuxer, type StreamName } from "./streams.js";

/** Exit code of an agent that cannot run here (no base64 in the image): steps fall back to one exec each. */
export const AGENT_UNSUPPORTED_EXIT = 97;

// dash and busybox sh both run this. `read -r` keeps backslashes; the request is one line of
// nonce, pid file and base64 script, so no byte of the script can end the line early. The loop's
// own stderr goes to /dev/null (a shell reports "Killed" for a job that died of a signal; exec never
// did) and the steps get the real stderr as fd 3. A step runs in a process group of its own (see
// stepScript); when it ends, whatever it left running in that group is killed, so nothing of it
// writes into the next step's output.
export const AGENT_SCRIPT = `command -v base64 >/dev/null 2>&1 || exit ${AGENT_UNSUPPORTED_EXIT}
exec 3>&2 2>/dev/null
while IFS= read -r request; do
  nonce=\${request%% *}
  rest=\${request#* }
  pidfile=\${rest%% *}
  printf '%s' "\${rest#* }" | base64 -d | /bin/sh -c 'eval "$(cat)"' 2>&3 3>&-
  code=$?
  pid=
  read -r pid < "$pidfile" && kill -KILL "-$pid"
  printf '\\000%s:%s\\n' "$nonce" "$code"
  printf '\\000%s:%s\\n' "$nonce" "$code" >&3
done`;

const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The script the agent evaluates for one step: write the pid (signals reach the command itself,
 * which keeps the shell's pid through exec), change directory, export the step's variables, then
 * replace the shell with the command. Its stdin is /dev/null, as with an exec without stdin.
 */
export function stepScript(input: {
  pidFile: string;
  workingDir: string;
  env?: Readonly<Record<string, string>>;
  argv: readonly string[];
}): string {
  const lines = [`echo $$ > ${shellWord(input.pidFile)} || exit 125`, `cd ${shellWord(input.workingDir)} || exit 126`];
  for (const [name, value] of Object.entries(input.env ?? {})) {
    if (!NAME_PATTERN.test(name)) throw new InternalError(`environment variable name ${JSON.stringify(name)} cannot be passed to a step`);
    lines.push(`export ${shellWord(`${name}=${value}`)}`);
  }
  if (input.argv.length === 0) throw new InternalError("a step needs a command");
  const command = input.argv.map(shellWord).join(" ");
  // setsid (util-linux) in a process that leads no group makes the step's pid its process group
  // without forking: Ctrl-C then reaches every process of the step, as a terminal's would.
  lines.push(`command -v setsid >/dev/null 2>&1 && exec setsid ${command} </dev/null`, `exec ${command} </dev/null`);
  return lines.join("\n");
}

/**
 * Finds `\0<nonce>:<code>\n` in one stream. Bytes before it are output; a tail that could be the
 * start of the marker waits for the next chunk.
 */
export class MarkerScanner {
  private held: Buffer = Buffer.alloc(0);
  private codeText: string | undefined;
  private done = false;

  constructor(
    private readonly marker: Buffer,
    private readonly onOutput: (data: Buffer) => void,
  ) {}

  get exitCode(): number | undefined {
    return this.done ? Number(this.codeText) : undefined;
  }

  /** Returns true once the marker and its exit code have been read. */
  push(chunk: Buffer): boolean {
    if (this.done) return true;
    if (this.codeText !== undefined) return this.readCode(chunk);
    const data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    const at = data.indexOf(this.marker);
    if (at >= 0) {
      if (at > 0) this.onOutput(data.subarray(0, at));
      this.codeText = "";
      return this.readCode(data.subarray(at + this.marker.length));
    }
    const keep = this.possibleMarkerStart(data);
    if (data.length - keep > 0) this.onOutput(data.subarray(0, data.length - keep));
    if (keep > 0) this.held = Buffer.from(data.subarray(data.length - keep));
    return false;
  }

  private readCode(data: Buffer): boolean {
    const end = data.indexOf(0x0a);
    this.codeText += data.subarray(0, end >= 0 ? end : data.length).toString("latin1");
    if (end < 0) return false;
    this.done = true;
    return true;
  }

  /** How many trailing bytes could begin the marker (it starts with NUL, so text has none). */
  private possibleMarkerStart(data: Buffer): number {
    const from = Math.max(0, data.length - this.marker.length + 1);
    for (let start = data.indexOf(0, from); start >= 0; start = data.indexOf(0, start + 1)) {
      const tail = data.subarray(start);
      if (this.marker.subarray(0, tail.length).equals(tail)) return tail.length;
    }
    return 0;
  }
}

export interface AgentRequestHandlers {
  onOutput(stream: StreamName, data: Buffer): void;
}

interface InFlight {
  scanners: Record<StreamName, MarkerScanner>;
  resolve: (exitCode: number) => void;
  reject: (error: unknown) => void;
}

/** One agent: serves one step at a time. */
export class StepAgent {
  private current: InFlight | undefined;
  private ended = false;
  busy = false;

  private constructor(
    private readonly exec: Dockerode.Exec,
    private readonly stream: Duplex,
  ) {
    stream.on(
      "data",
      createDemuxer((name, data) => this.onData(name, data)),
    );
    const onEnd = () => this.onEnd();
    stream.on("end", onEnd);
    stream.on("close", onEnd);
    // A reset when the container is killed is an end like any other; the exit code says the rest.
    stream.on("error", onEnd);
  }

  static async start(exec: Dockerode.Exec): Promise<StepAgent> {
    const stream = (await exec.start({ hijack: true, stdin: true })) as unknown as Duplex;
    return new StepAgent(exec, stream);
  }

  get alive(): boolean {
    return !this.ended;
  }

  /** Runs one step script; resolves with its exit code. Output arrives through `handlers`. */
  run(script: string, pidFile: string, handlers: AgentRequestHandlers): Promise<number> {
    if (/\s/.test(pidFile)) throw new InternalError(`a step's pid file path has a space: ${pidFile}`);
    if (this.current) throw new InternalError("a step agent got a second step while one was running");
    if (this.ended) return this.exitCodeAfterEnd();
    const nonce = randomBytes(16).toString("hex");
    const marker = Buffer.from(`\0${nonce}:`, "latin1");
    return new Promise<number>((resolve, reject) => {
      this.current = {
        scanners: {
          stdout: new MarkerScanner(marker, (data) => handlers.onOutput("stdout", data)),
          stderr: new MarkerScanner(marker, (data) => handlers.onOutput("stderr", data)),
        },
        resolve,
        reject,
      };
      this.stream.write(`${nonce} ${pidFile} ${Buffer.from(script, "utf8").toString("base64")}\n`);
    }).finally(() => {
      this.current = undefined;
    });
  }

  private onData(name: StreamName, data: Buffer): void {
    const request = this.current;
    if (!request) return; // Output of a background process a step left behind: it belongs to no step.
    if (!request.scanners[name].push(data)) return;
    const { stdout, stderr } = request.scanners;
    if (stdout.exitCode !== undefined && stderr.exitCode !== undefined) request.resolve(stdout.exitCode);
  }

  private onEnd(): void {
    if (this.ended) return;
    this.ended = true;
    const request = this.current;
    if (request) this.exitCodeAfterEnd().then(request.resolve, request.reject);
  }

  /** The agent went away: the container stopped (137), the engine is gone (UnavailableError), or the agent cannot run here. */
  private async exitCodeAfterEnd(): Promise<number> {
    const code = await execExitCode(this.exec);
    if (code === AGENT_UNSUPPORTED_EXIT) throw new AgentUnsupportedError();
    return code === 0 ? 137 : code;
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }

  /** Stops reading: for when the container is about to be removed. */
  abandon(): void {
    this.ended = true;
    this.stream.destroy();
  }
}

/** The image has no base64 (or no POSIX shell): the step is re-run as an exec of its own. */
export class AgentUnsupportedError extends Error {
  constructor() {
    super("the toolbox image cannot run the step agent");
  }
}
