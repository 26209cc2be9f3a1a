// Ctrl-C escalation shared by the CLI (which counts signals) and the runtime (which acts on them).
// Level 1: forward SIGINT to each step's process and give it a grace period, so eksctl is not cut
// off in the middle of a CloudFormation call. Level 2: stop the containers. Level 3: kill them.
// No new step starts once any level is reached.

export type InterruptLevel = 0 | 1 | 2 | 3;

export class Interrupter {
  private currentLevel: InterruptLevel = 0;
  private readonly listeners = new Set<(level: InterruptLevel) => void>();
  private readonly abortController = new AbortController();

  get level(): InterruptLevel {
    return this.currentLevel;
  }

  /** Aborted from the first interrupt on: pass it to anything that should not start new work. */
  get signal(): AbortSignal {
    return this.abortController.signal;
  }

  escalate(): InterruptLevel {
    if (this.currentLevel < 3) this.currentLevel = (this.currentLevel + 1) as InterruptLevel;
    if (this.currentLevel === 1) this.abortController.abort();
    for (const listener of [...this.listeners]) listener(this.currentLevel);
    return this.currentLevel;
  }

  /** Whether anything (a running toolbox) is waiting to be told about an interrupt. */
  get hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  /** Called at once with the current level if one was already reached. Returns an unsubscribe. */
  onEscalate(listener: (level: InterruptLevel) => void): () => void {
    this.listeners.add(listener);
    if (this.currentLevel > 0) listener(this.currentLevel);
    return () => this.listeners.delete(listener);
  }
}
