// Shell completion: `eksbox completion bash|zsh|fish` prints a script that asks eksbox itself
// (`eksbox __complete <words...>`) for the candidates, as kubectl and eksctl do, so commands, flags,
// environment names and the project's own tasks are always the current ones.
import type { Command, Option } from "commander";
import { listEnvironments } from "./config/env-names.js";

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** Built-in tasks `eksbox plan` takes besides the project's own. */
const PLANNABLE = ["born", "roll", "destroy", "upgrade"];

export function completionScript(shell: Shell): string {
  switch (shell) {
    case "bash":
      return `# eksbox completion for bash: source <(eksbox completion bash)
_eksbox() {
  local IFS=$'\\n'
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  COMPREPLY=($(compgen -W "$(eksbox __complete "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur"))
}
complete -o default -F _eksbox eksbox
`;
    case "zsh":
      return `#compdef eksbox
# eksbox completion for zsh: source <(eksbox completion zsh)
_eksbox() {
  local -a candidates
  candidates=("\${(@f)$(eksbox __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  if (( \${#candidates} )) && [[ -n "\${candidates[1]}" ]]; then
    compadd -- "\${candidates[@]}"
  else
    _files
  fi
}
compdef _eksbox eksbox
`;
    case "fish":
      return `# eksbox completion for fish: eksbox completion fish | source
function __eksbox_complete
  set -l words (commandline -opc) (commandline -ct)
  eksbox __complete $words[2..-1] 2>/dev/null
end
complete -c eksbox -f -a '(__eksbox_complete)'
`;
  }
}

function optionsOf(command: Command): readonly Option[] {
  return (command as unknown as { options: readonly Option[] }).options;
}

function findOption(chain: readonly Command[], flag: string): Option | undefined {
  for (const command of [...chain].reverse()) {
    const found = optionsOf(command).find((o) => o.long === flag || o.short === flag);
    if (found) return found;
  }
  return undefined;
}

/**
 * The candidates for the last of `words` (the words after `eksbox`, the last one being completed,
 * possibly empty). The shell filters them by the typed prefix.
 */
export async function completeWords(
  program: Command,
  words: readonly string[],
  projectRoot: string,
  builtins: readonly string[],
): Promise<string[]> {
  const current = words.at(-1) ?? "";
  const before = words.slice(0, -1);
  const chain: Command[] = [program];
  const positionals: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const word = before[i]!;
    if (word === "--") return [];
    if (word.startsWith("-")) {
      const option = findOption(chain, word.split("=")[0]!);
      if (option && (option.required || option.optional) && !word.includes("=")) i++;
      continue;
    }
    const sub = chain.at(-1)!.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub && positionals.length === 0) chain.push(sub);
    else positionals.push(word);
  }
  const command = chain.at(-1)!;
  const previous = before.at(-1);
  if (previous?.startsWith("-") && !previous.includes("=")) {
    const option = findOption(chain, previous);
    if (option && (option.required || option.optional)) return valuesFor(option, projectRoot);
  }
  if (current.startsWith("-")) {
    const flags = new Set<string>();
    for (const c of chain) for (const o of optionsOf(c)) if (!o.hidden) for (const f of [o.long, o.short]) if (f) flags.add(f);
    return [...flags].sort();
  }
  const path = chain
    .slice(1)
    .map((c) => c.name())
    .join(" ");
  if (path === "env set" && positionals.length === 0) return listEnvironments(projectRoot);
  if (path === "completion" && positionals.length === 0) return [...SHELLS];
  if (path === "plan" && positionals.length === 0)
    return [...PLANNABLE, ...program.commands.map((c) => c.name()).filter((name) => !builtins.includes(name))];
  if (positionals.length === 0)
    return command.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden).map((c) => c.name());
  return [];
}

async function valuesFor(option: Option, projectRoot: string): Promise<string[]> {
  if (option.long === "--env") return listEnvironments(projectRoot);
  if (option.argChoices) return [...option.argChoices];
  return [];
}
