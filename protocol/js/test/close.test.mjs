// Every close code of PROTOCOL.md §10 has its name, by WebSocket code and by enum index.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLOSE_CODE_NAMES, CloseReason, closeReasonName } from '../game-client.js';
import { docTable } from '../test-support/doc.mjs';

test('CloseReason maps every WebSocket code of §10 to its name', () => {
  const rows = docTable('index | name | WS code');
  assert.equal(rows.length, 13);
  for (const [index, name, code] of rows) {
    assert.equal(CloseReason[Number(code)], name, `WS code ${code}`);
    assert.equal(CLOSE_CODE_NAMES[Number(index)], name, `index ${index}`);
  }
  assert.equal(Object.keys(CloseReason).length, rows.length, 'and nothing else');
});

test('a connection lost without a close frame, and unknown codes, have names too', () => {
  assert.equal(closeReasonName(1006), 'connection_lost');
  assert.equal(closeReasonName(1005), 'connection_lost');
  assert.equal(closeReasonName(4999), 'unknown');
  assert.equal(closeReasonName(4006), 'lagging');
});
