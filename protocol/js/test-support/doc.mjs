// Reads PROTOCOL.md at test time, so the document stays the source of every vector (as
// protocol/tests/golden.rs does).
import { readFileSync } from 'node:fs';

/** The text of protocol/PROTOCOL.md. */
export const DOC = readFileSync(new URL('../../PROTOCOL.md', import.meta.url), 'utf8');

/** Bytes of hex digits with any white space between them. */
export function unhex(s) {
  const digits = s.replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(digits)) throw new Error(`not hex: ${s}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => parseInt(h, 16));
}

/** Lower-case hex of bytes, for readable assertion messages. */
export function hex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

/** The text of the ``` block after `<!-- marker -->`, comments included. */
export function docBlockText(marker) {
  const rest = DOC.split(`<!-- ${marker} -->`)[1];
  if (rest === undefined) throw new Error(`PROTOCOL.md has no block after <!-- ${marker} -->`);
  return rest.split('```')[1];
}

/** The bytes of the ``` block after `<!-- marker -->`, without its `#` comments. */
export function docBlock(marker) {
  return unhex(docBlockText(marker).split('\n').map((l) => l.split('#')[0]).join(' '));
}

/**
 * The hex printed for the backquoted `label` in PROTOCOL.md: in a table row
 * (`| label | bytes |`) or in the "More vectors" paragraph (`label` = `bytes`).
 */
export function docVector(label) {
  for (let at = DOC.indexOf(`\`${label}\``); at >= 0; at = DOC.indexOf(`\`${label}\``, at + 1)) {
    const m = DOC.slice(at + label.length + 2).match(/^\s*[|=]\s*`([0-9a-f\s]+)`/);
    if (m) return unhex(m[1]);
  }
  throw new Error(`PROTOCOL.md prints no bytes for \`${label}\``);
}

/** The rows of the first Markdown table whose header row starts with `| first |`, as cell arrays. */
export function docTable(first) {
  return docTables(first)[0];
}

/**
 * Every Markdown table whose header row starts with `| first |`, in document order, each as an
 * array of rows (cell arrays) whose `offset` is where the table starts in the document.
 */
export function docTables(first) {
  const lines = DOC.split('\n');
  const tables = [];
  let offset = 0;
  for (let i = 0; i < lines.length; offset += lines[i].length + 1, i++) {
    if (!lines[i].startsWith(`| ${first} |`)) continue;
    const rows = [];
    for (const line of lines.slice(i + 2)) {
      if (!line.startsWith('|')) break;
      rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
    }
    rows.offset = offset;
    tables.push(rows);
  }
  if (tables.length === 0) throw new Error(`PROTOCOL.md has no table headed | ${first} |`);
  return tables;
}
