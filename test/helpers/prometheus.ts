/**
 * A strict reader of Prometheus' text exposition format (version 0.0.4), for tests: every line a comment (HELP,
 * TYPE) or a sample; every sample's family announced by HELP and TYPE before it; names and label names as the format
 * allows; label values unescaped. What does not parse throws, naming the line.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  help: string;
  type: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** The samples a family of each type may have: its name, or its name and a suffix. */
const SUFFIXES: Record<string, string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('the exposition does not end with a line feed');
  lines.pop();
  for (const [i, line] of lines.entries()) {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
      if (!m) {
        if (/^# (HELP|TYPE)/.test(line)) throw new Error(`${where}: a HELP or TYPE line needs a name and text`);
        continue; // any other comment
      }
      const [, kind, name, rest] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!NAME.test(name)) throw new Error(`${where}: not a metric name`);
      const family = families.get(name) ?? { help: '', type: '', samples: [] };
      families.set(name, family);
      if (kind === 'HELP') family.help = rest;
      else if (TYPES.has(rest)) family.type = rest;
      else throw new Error(`${where}: unknown type`);
      continue;
    }
    const sample = parseSample(line, where);
    const family = familyOf(sample.name, families);
    if (family === undefined) throw new Error(`${where}: no HELP and TYPE before this sample`);
    family.samples.push(sample);
  }
  for (const [name, family] of families)
    if (family.help === '' || family.type === '') throw new Error(`${name}: HELP or TYPE missing`);
  return families;
}

function familyOf(sample: string, families: Map<string, Family>): Family | undefined {
  for (const [name, family] of families)
    for (const suffix of SUFFIXES[family.type] ?? ['']) if (sample === name + suffix) return family;
  return undefined;
}

function parseSample(line: string, where: string): Sample {
  const nameEnd = line.search(/[{ ]/);
  if (nameEnd <= 0) throw new Error(`${where}: not a sample`);
  const name = line.slice(0, nameEnd);
  if (!NAME.test(name)) throw new Error(`${where}: not a metric name`);
  const labels: Record<string, string> = {};
  let i = nameEnd;
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const eq = line.indexOf('=', i);
      const label = line.slice(i, eq);
      if (eq < 0 || !LABEL_NAME.test(label)) throw new Error(`${where}: bad label name at ${i}`);
      if (line[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
      let value = '';
      i = eq + 2;
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`${where}: unterminated label value`);
        if (c === '"') break;
        if (c === '\\') {
          const next = line[i + 1];
          if (next === 'n') value += '\n';
          else if (next === '\\' || next === '"') value += next;
          else throw new Error(`${where}: bad escape in a label value`);
          i += 2;
        } else {
          value += c;
          i++;
        }
      }
      if (label in labels) throw new Error(`${where}: label ${label} twice`);
      labels[label] = value;
      i++;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`${where}: expected , or } after a label`);
    }
    i++;
  }
  const rest = line.slice(i);
  const m = /^ (\S+)( -?\d+)?$/.exec(rest);
  if (!m) throw new Error(`${where}: expected one value (and an optional timestamp)`);
  const text = m[1]!;
  // as Prometheus reads it (Go's ParseFloat): NaN and Inf in any case (prom-client writes "Nan")
  const special = /^(?:([+-]?)inf(?:inity)?|(nan))$/i.exec(text);
  const value = special ? (special[2] ? NaN : special[1] === '-' ? -Infinity : Infinity) : Number(text);
  if (Number.isNaN(value) && !special) throw new Error(`${where}: not a number`);
  return { name, labels, value };
}

/** The value of the sample `name` whose labels include `labels` (exactly one must match), or undefined if none. */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples match`);
  return found[0]?.value;
}
