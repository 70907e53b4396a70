// The checksum of PROTOCOL.md §7: its check values and the worked examples' terms (§6.5, §8),
// parsed from the document's tables.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { componentHash, componentSeed, entityHash, fieldWord, fnv1a64, mix64 } from '../game-client.js';
import { docTable, docTables } from '../test-support/doc.mjs';

const bytes = (s) => new TextEncoder().encode(s);

/** The words of a `[...]` list as the document writes them: a number or a position. */
function words(list) {
  const pos = list.match(/pos"?,? \((-?\d+), (-?\d+)\)/);
  if (pos) return [fieldWord('pos', { x: Number(pos[1]), y: Number(pos[2]) })];
  return list.split(',').filter((w) => w.trim()).map((w) => BigInt(w.trim()));
}

/** Evaluates one expression of the §7 tables. */
function evaluate(expr) {
  let m;
  if ((m = expr.match(/^mix64\((\d+)\)$/))) return mix64(BigInt(m[1]));
  if ((m = expr.match(/^fnv1a64\(b"(.*)"\)$/))) return fnv1a64(bytes(m[1]));
  if ((m = expr.match(/^entity_hash\((\d+), (\d+)\)$/))) return entityHash(Number(m[1]), Number(m[2]));
  if ((m = expr.match(/^component_seed\((\d+), (\d+)\)$/))) return componentSeed(Number(m[1]), Number(m[2]));
  if ((m = expr.match(/^component_hash\((\d+), (\d+), \[(.*)\]\)/))) return componentHash(Number(m[1]), Number(m[2]), words(m[3]));
  throw new Error(`unknown expression ${expr}`);
}

const cell = (s) => s.match(/`([^`]+)`/)[1];

test('the check values of §7', () => {
  const rows = docTable('expression | value');
  assert.ok(rows.length >= 8, 'the table has every check value');
  for (const [expr, value] of rows) assert.equal(evaluate(cell(expr)), BigInt(cell(value)), expr);
});

test("each worked example's checksum (§6.5's area delta, §8's delta) is the wrapping sum of its terms", () => {
  const tables = docTables('term | hash');
  assert.ok(tables.length >= 2, 'a term table for §6.5 and one for §8');
  for (const table of tables) {
    let sum = 0n;
    const last = table.at(-1);
    assert.equal(last[0], 'wrapping sum', 'the table ends with the wrapping sum');
    for (const [term, value] of table.slice(0, -1)) {
      assert.equal(evaluate(cell(term)), BigInt(cell(value)), term);
      sum += BigInt(cell(value));
    }
    assert.equal(sum & ((1n << 64n) - 1n), BigInt(cell(last[1])));
  }
});

test('field words: sign-extended integers, bools, strings', () => {
  assert.equal(fieldWord('i8', -1), (1n << 64n) - 1n);
  assert.equal(fieldWord('bool', true), 1n);
  assert.equal(fieldWord('str', 'coin'), 0x0bdaf091196bd10cn);
  assert.equal(fieldWord('pos', { x: -1, y: 2 }), 0xffffffffn | (2n << 32n));
});

test('mix64 and fnv1a64 equal their BigInt definitions of §7 on random words', () => {
  const M = (1n << 64n) - 1n;
  const mixRef = (z) => {
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M;
    return z ^ (z >> 31n);
  };
  const fnvRef = (data) => data.reduce((h, b) => ((h ^ BigInt(b)) * 0x100000001b3n) & M, 0xcbf29ce484222325n);
  let seed = 0x1234567n;
  const next = () => (seed = mixRef(seed + 0x9e3779b97f4a7c15n));
  for (let i = 0; i < 2000; i++) {
    const z = next();
    assert.equal(mix64(z), mixRef(z), `mix64(0x${z.toString(16)})`);
    const data = Array.from({ length: Number(z % 40n) }, (_, j) => Number((z >> BigInt(j % 56)) & 0xffn));
    assert.equal(fnv1a64(Uint8Array.from(data)), fnvRef(data));
  }
  assert.equal(mix64(0n), 0n);
  assert.equal(mix64(M), mixRef(M));
});
