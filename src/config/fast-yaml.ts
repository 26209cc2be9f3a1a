// A fast path for parsing config and rendered eksctl files. The `yaml` library takes about 2 ms
// for a rendered nodegroups file, most of a `validate --all` over 100 environments. These files
// use a small part of YAML: block maps and sequences, comments, JSON values (what the templates'
// yaml filter writes), one-line flow collections and plain words. This parser reads exactly that
// part and returns undefined for anything else, so the caller falls back to the `yaml` library;
// when it returns a value, it is the value `yaml` would return (tested against it, including with
// random input).
interface Line {
 indent: number;
 /** Content without indentation and comment; "-" alone for a sequence dash. */
 text: string;
 dash: boolean;
}

class Unsupported extends Error {}
// YAML refuses these raw; tabs and carriage returns change indentation and line rules.
const outsideSubset = /[^\n\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]/u;
const plainKey = /^[A-Za-z0-9_][A-Za-z0-9_.\/-]*(?=:(?: |$))/;
// Plain words read as strings; a colon is allowed inside block values only (`http://h:1`).
const plainBlockWord = /^[A-Za-z0-9_\/][A-Za-z0-9_.\/:-]*$/;
const plainFlowWord = /^[A-Za-z0-9_\/][A-Za-z0-9_.\/-]*$/;
// Plain scalars YAML 1.2's core schema reads as something other than a string.
const coreNonString = /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[Tt]rue|TRUE|[Ff]alse|FALSE|~|[Nn]ull|NULL)$/;
const specialWords = new Set(["true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL"]);
const plainInteger = /^-?(0|[1-9][0-9]{0,14})$/;
// JSON's number syntax, a subset of YAML 1.2's float syntax: both read it as the same number.
const jsonNumber = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/;
function fail(): never {
  throw new Unsupported();
}
/** Splits a line into its content and comment, keeping `#` inside JSON strings. */
function stripComment(text: string): string {
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\")
        i++;
      else if (c === '"')
        inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === "'") {
      fail();
    } else if (c === "#" && (i === 0 || text[i - 1] === " ")) {
      return text.slice(0, i).trimEnd();
    }
  }
  return text.trimEnd();
}
function tokenize(text: string): Line[] {
  const lines: Line[] = [];
  for (const raw of text.split("\n")) {
    const content = stripComment(raw);
    if (content.trim() === "")
      continue;
    let indent = content.length - content.trimStart().length;
    let rest = content.slice(indent);
    if (indent === 0 && /^(---|\.\.\.|%)/.test(rest))
      fail();
    // "- - a" and "- key: v": a dash, then the rest of the line one column further than its text.
    while (rest === "-" || rest.startsWith("- ")) {
      lines.push({ indent, text: "-", dash: true });
      if (rest === "-") {
        rest = "";
        break;
      }
      const after = rest.slice(2);
      const trimmed = after.trimStart();
      indent += 2 + (after.length - trimmed.length);
      rest = trimmed;
    }
    if (rest !== "")
      lines.push({ indent, text: rest, dash: false });
  }
  return lines;
}
function scalar(text: string): unknown {
  const c = text[0];
  if (c === '"') {
    // Most strings hold no escapes: no need for JSON.parse.
    if (text.length > 1 && text.endsWith('"') && text.indexOf('"', 1) === text.length - 1 && !text.includes("\\")) {
      return text.slice(1, -1);
    }
    try {
      return JSON.parse(text);
    } catch {
      fail();
    }
  }
  if (c === "[" || c === "{") {
    // JSON as the yaml filter writes it is the common case; other one-line flow is parsed below.
    try {
      const value = JSON.parse(text);
      // JSON.parse accepts duplicate keys, which YAML refuses; canonical text has none.
      if (JSON.stringify(value) === text)
        return value;
    } catch {
      // not JSON
    }
    return flow(text);
  }
  return plain(text, false);
}
function plain(word: string, inFlow: boolean): unknown {
  if (word === "true")
    return true;
  if (word === "false")
    return false;
  if (word === "null")
    return null;
  if (plainInteger.test(word) || jsonNumber.test(word))
    return Number(word);
  if (!(inFlow ? plainFlowWord : plainBlockWord).test(word) || word.endsWith(":") || coreNonString.test(word))
    fail();
  return word;
}
/** One-line flow collections: `[a, "b", 1]`, `{ id: subnet-0abc }`, nested. */
function flow(text: string): unknown {
  let i = 0;
  const spaces = () => {
    while (text[i] === " ")
      i++;
  };
  const quoted = (): unknown => {
    const end = i + closingQuote(text.slice(i));
    let value: unknown;
    try {
      value = JSON.parse(text.slice(i, end + 1));
    } catch {
      fail();
    }
    i = end + 1;
    return value;
  };
  const value = (): unknown => {
    spaces();
    const c = text[i];
    if (c === "[") {
      i++;
      const out: unknown[] = [];
      spaces();
      if (text[i] === "]") {
        i++;
        return out;
      }
      for (;;) {
        out.push(value());
        spaces();
        if (text[i] === "]") {
          i++;
          return out;
        }
        if (text[i] !== ",")
          fail();
        i++;
      }
    }
    if (c === "{") {
      i++;
      const out: Record<string, unknown> = {};
      spaces();
      if (text[i] === "}") {
        i++;
        return out;
      }
      for (;;) {
        spaces();
        let key: string;
        if (text[i] === '"') {
          key = quoted() as string;
          if (text[i] !== ":")
            fail();
          i++;
        } else {
          const match = /^[A-Za-z_\/][A-Za-z0-9_.\/-]*/.exec(text.slice(i));
          if (!match || specialWords.has(match[0]) || coreNonString.test(match[0]))
            fail();
          key = match[0];
          i += key.length;
          if (text[i] !== ":" || text[i + 1] !== " ")
            fail();
          i++;
        }
        if (key === "<<" || key === "__proto__" || Object.prototype.hasOwnProperty.call(out, key))
          fail();
        out[key] = value();
        spaces();
        if (text[i] === "}") {
          i++;
          return out;
        }
        if (text[i] !== ",")
          fail();
        i++;
      }
    }
    if (c === '"')
      return quoted();
    const match = /^[^\s,[\]{}"]+/.exec(text.slice(i));
    if (!match)
      fail();
    i += match[0].length;
    return plain(match[0], true);
  };
  const result = value();
  spaces();
  if (i !== text.length)
    fail();
  return result;
}
function parseKey(text: string): { key: string; rest: string } {
  if (text.startsWith('"')) {
    const end = closingQuote(text);
    if (text[end + 1] !== ":" || (text.length > end + 2 && text[end + 2] !== " "))
      fail();
    let key: unknown;
    try {
      key = JSON.parse(text.slice(0, end + 1));
    } catch {
      fail();
    }
    return { key: key as string, rest: text.slice(end + 2).trim() };
  }
  const match = plainKey.exec(text);
  if (!match || specialWords.has(match[0]) || plainInteger.test(match[0]) || /^[0-9.+-]/.test(match[0]))
    fail();
  return { key: match[0], rest: text.slice(match[0].length + 1).trim() };
}
function startsWithKey(text: string): boolean {
  if (text.startsWith('"')) {
    const end = closingQuote(text);
    return text[end + 1] === ":";
  }
  return plainKey.test(text);
}
function closingQuote(text: string): number {
  for (let i = 1; i < text.length; i++) {
    if (text[i] === "\\")
      i++;
    else if (text[i] === '"')
      return i;
  }
  return fail();
}
class BlockParser {
  private index = 0;
  constructor(private readonly lines: Line[]) {}
  document(): unknown {
    if (this.lines.length === 0)
      fail();
    const value = this.block(this.lines[0]!.indent);
    if (this.index !== this.lines.length)
      fail();
    return value;
  }
  private block(indent: number): unknown {
    const line = this.lines[this.index]!;
    if (line.indent !== indent)
      fail();
    if (line.dash)
      return this.sequence(indent);
    if (!startsWithKey(line.text)) {
      // A lone scalar as a whole block: only valid as a document or after a dash.
      this.index++;
      return scalar(line.text);
    }
    return this.map(indent);
  }
  private map(indent: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    while (this.index < this.lines.length) {
      const line = this.lines[this.index]!;
      if (line.indent < indent)
        break;
      if (line.indent > indent || line.dash)
        fail();
      const { key, rest } = parseKey(line.text);
      if (key === "<<" || key === "__proto__" || Object.prototype.hasOwnProperty.call(out, key))
        fail();
      this.index++;
      out[key] = rest !== "" ? scalar(rest) : this.nested(indent, true);
    }
    return out;
  }
  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    while (this.index < this.lines.length) {
      const line = this.lines[this.index]!;
      // A key at the dash's indent ends a sequence that sits under a key of the same indent.
      if (line.indent < indent || (line.indent === indent && !line.dash))
        break;
      if (line.indent > indent)
        fail();
      this.index++;
      out.push(this.nested(indent, false));
    }
    return out;
  }
  /** The value under a key or dash: a deeper block, a sequence at a map key's own indent, or null. */
  private nested(indent: number, underKey: boolean): unknown {
    const next = this.lines[this.index];
    if (!next)
      return null;
    if (next.indent > indent)
      return this.block(next.indent);
    if (underKey && next.indent === indent && next.dash)
      return this.sequence(indent);
    return null;
  }
}
export function parseSimpleYaml(text: string): { value: unknown } | undefined {
  if (outsideSubset.test(text))
    return undefined;
  try {
    return { value: new BlockParser(tokenize(text)).document() };
  } catch (error) {
    if (error instanceof Unsupported)
      return undefined;
    throw error;
  }
}
