import type { Rule, RuleGroup } from "./rules.ts";

/**
 * A Prometheus rules file written out by hand. The file has one fixed shape, and a general YAML
 * serializer spent most of its time on what this shape never needs (styles, folding, anchors): at
 * 10,000 profiles it was a third of the operator's CPU.
 *
 * The text reads back as the same object with the `yaml` library (YAML 1.2 and 1.1) and with
 * Prometheus's go-yaml. Shared label objects are written out each time: an alias would save bytes
 * but make each rule unreadable on its own.
 */
export function rulesYaml(groups: ReadonlyArray<RuleGroup<Rule>>): string {
  if (groups.length === 0) return "groups: []\n";
  let out = "groups:\n";
  for (const g of groups) {
    out += `  - name: ${scalar(g.name)}\n`;
    if (g.interval !== undefined) out += `    interval: ${scalar(g.interval)}\n`;
    if (g.rules.length === 0) {
      out += "    rules: []\n";
      continue;
    }
    out += "    rules:\n";
    for (const r of g.rules) {
      if ("alert" in r) {
        out += `      - alert: ${scalar(r.alert)}\n        expr: ${scalar(r.expr)}\n`;
        if (r.for !== undefined) out += `        for: ${scalar(r.for)}\n`;
        out += map("labels", r.labels) + map("annotations", r.annotations);
      } else {
        out += `      - record: ${scalar(r.record)}\n        expr: ${scalar(r.expr)}\n` + map("labels", r.labels);
      }
    }
  }
  return out;
}

const FIELD = "        ";
const ENTRY = "          ";

/** A rule's labels or annotations. */
function map(key: string, m: Readonly<Record<string, string>>): string {
  let body = "";
  for (const k of Object.keys(m)) {
    const v = m[k];
    // As the yaml library did: a key set to undefined is no key.
    if (v === undefined) continue;
    const name = scalar(k);
    // YAML caps an implicit key at 1024 characters; a longer one needs the explicit `? key` form.
    body += name.length <= 1000 ? `${ENTRY}${name}: ${scalar(v)}\n` : `${ENTRY}? ${name}\n${ENTRY}: ${scalar(v)}\n`;
  }
  return body === "" ? `${FIELD}${key}: {}\n` : `${FIELD}${key}:\n${body}`;
}

/**
 * Plain where every reader is certain to take it as this very string, double-quoted otherwise.
 * Plain keeps PromQL and durations as an SRE would paste them into Prometheus's UI; the test is
 * deliberately stricter than YAML needs, as a string quoted needlessly costs only two characters,
 * and one left plain wrongly turns into another string, a number, a bool or null.
 */
function scalar(s: string): string {
  if (
    s === "" ||
    UNSAFE_CHAR.test(s) ||
    UNSAFE_START.test(s) ||
    s.includes(": ") ||
    s.includes(" #") ||
    s.endsWith(":") ||
    s.endsWith(" ") ||
    (s.length <= 5 && RESERVED_WORDS.has(s.toLowerCase())) ||
    (NUMBER_LIKE.test(s) && !DURATION.test(s))
  ) {
    return quote(s);
  }
  return s;
}

/**
 * Characters a plain scalar cannot hold: controls, tabs and line breaks, YAML 1.1's extra line breaks
 * (NEL, LS, PS), a BOM, non-characters, and lone surrogates, which UTF-8 cannot carry.
 */
const UNSAFE_CHAR = /[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff\ud800-\udfff]/u;
/**
 * A first character YAML reads as an indicator (block entry, key, value, flow collection, comment,
 * anchor, alias, tag, block scalar, quote, directive, reserved) or trims (space). Inside the string,
 * ": " would start a value and " #" a comment; a trailing ":" makes it a key, a trailing space is trimmed.
 */
const UNSAFE_START = /^[-?:,[\]{}#&*!|>'"%@` ]/;

/**
 * Bools and nulls of YAML 1.1 (which `yes`, `on` and `y` are to go-yaml when decoding into a bool,
 * and to the yaml library's 1.1 mode) and 1.2, in any case rather than only the cases the specs list;
 * `<<` is 1.1's merge key and `=` its value key.
 */
const RESERVED_WORDS = new Set(["y", "n", "yes", "no", "true", "false", "on", "off", "null", "~", "<<", "="]);

/**
 * Numbers (hex, octal, binary, with underscores or exponents), .inf and .nan, YAML 1.1 base-60 numbers
 * and timestamps all start with a digit, a sign or a dot (a leading "-" is already quoted as an
 * indicator) and hold only letters, digits, spaces and `_ . : + -`. Rather than tell each schema's
 * forms apart, any such string is quoted unless it is a Prometheus duration, which no schema reads as
 * anything but a string. An expression such as `1 - (...)` has other characters and stays plain.
 */
const NUMBER_LIKE = /^[0-9+.][0-9A-Za-z_.:+\- ]*$/;
const DURATION = /^(?:[0-9]+(?:ms|[smhdwy]))+$/;

/**
 * JSON's string syntax is YAML's double-quoted style, bar characters JSON leaves raw that a YAML
 * stream may not carry (DEL and C1 controls, the BOM, non-characters) or that YAML 1.1 reads as line
 * breaks (NEL, LS, PS). A lone surrogate becomes U+FFFD, as it would in the file's UTF-8 anyway:
 * JSON's `\ud800` escape for it is one go-yaml refuses, and with it the whole file.
 */
function quote(s: string): string {
  const json = JSON.stringify(s.toWellFormed());
  return RAW_IN_JSON.test(json) ? json.replace(RAW_IN_JSON_ALL, escape) : json;
}

const RAW_IN_JSON = /[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]/;
const RAW_IN_JSON_ALL = new RegExp(RAW_IN_JSON.source, "g");

function escape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
}
