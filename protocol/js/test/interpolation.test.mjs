// Interpolation of the others: between two samples, clamped at the ends, rendered at server time
// minus the delay.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Interpolator } from '../game-client.js';

test('between two samples the position is linear in server time', () => {
  const i = new Interpolator();
  i.push(7, 1000, { x: 0, y: 0 });
  i.push(7, 1100, { x: 100, y: -50 });
  assert.deepEqual(i.at(7, 1050), { x: 50, y: -25 });
  assert.deepEqual(i.at(7, 1025), { x: 25, y: -12.5 });
});

test('before the first sample and after the last it is clamped to them', () => {
  const i = new Interpolator();
  i.push(7, 1000, { x: 0, y: 0 });
  i.push(7, 1100, { x: 100, y: 100 });
  assert.deepEqual(i.at(7, 900), { x: 0, y: 0 });
  assert.deepEqual(i.at(7, 1200), { x: 100, y: 100 });
  assert.equal(i.at(8, 1000), null, 'an unknown entity');
});

test('rendering maps local time to server time by the least delayed frame, minus the delay', () => {
  const i = new Interpolator({ delayMs: 100 });
  assert.equal(i.render(7, 0), null, 'no frame yet');
  i.push(7, 10_000, { x: 0, y: 0 });
  i.push(7, 10_100, { x: 200, y: 0 });
  i.observeClock(10_000, 530); // arrived 30 ms late
  i.observeClock(10_100, 600); // arrived on time: the offset is 9500
  assert.equal(i.offsetMs, 9500);
  assert.deepEqual(i.render(7, 650), { x: 100, y: 0 }, 'local 650 -> server 10150 - 100');
});

test('old samples are dropped and a forgotten entity has no position', () => {
  const i = new Interpolator({ historyMs: 200 });
  for (let t = 0; t <= 1000; t += 50) i.push(1, t, { x: t, y: 0 });
  assert.ok(i.samples.get(1).length <= 6);
  i.forget(1);
  assert.equal(i.at(1, 1000), null);
});
