// The one POSIX sh quoting of eksbox. Inside single quotes sh gives no character a meaning except
// `'` itself, which is written as '\'' (end the quote, an escaped quote, start a new one). So a
// quoted value is one word whatever it holds: no expansion, no second command. Hand-written on
// purpose: the `shell-quote` package picks double quotes or backslashes per value, and a script
// the agent evals should depend on one rule only.

/** One string as one sh word, always single-quoted. */
export function shellWord(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** An argv for display, to paste into a shell as it is: words of only safe characters stay bare. */
export function shellQuote(argv: readonly string[]): string {
  return argv.map((arg) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : shellWord(arg))).join(" ");
}
