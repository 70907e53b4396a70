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

/** The bytes of the ``` block after `<!-- marker -->`, without its `#` comments. */
export function docBlock(marker) {
  const rest = DOC.split(`<!-- ${marker} -->`)[1];
  if (rest === undefined) throw new Error(`PROTOCOL.md has no block after <!-- ${marker} -->`);
  const block = rest.split('```')[1];
  return unhex(block.split('\n').map((l) => l.split('#')[0]).join(' '));
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

/** The rows of the Markdown table whose header row starts with `| first |`, as cell arrays. */
export function docTable(first) {
  const lines = DOC.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`));
  if (start < 0) throw new Error(`PROTOCOL.md has no table headed | ${first} |`);
  const rows = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}
