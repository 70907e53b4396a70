// How long the mirror takes to decode, apply and verify a frame:
//   node protocol/js/bench/apply.mjs [ENTITIES]
// Snapshots of ENTITIES (default 100) movement-game players at distinct positions.
import { WorldMirror } from '../game-client.js';
import { movement, snapshot } from '../test-support/fake.mjs';

const entities = Number(process.argv[2] ?? 100);
const positions = {};
for (let id = 1; id <= entities; id++) positions[id] = { x: (id * 37) % 10000, y: (id * 53) % 10000 };
const frames = Array.from({ length: 50 }, (_, t) => snapshot(t + 1, positions, 0));
const mirror = new WorldMirror(movement);
const run = (n) => {
  for (let i = 0; i < n; i++) if (mirror.apply(frames[i % frames.length]).desync) throw new Error('desync');
};
run(200); // warm up
const n = 2000;
const start = performance.now();
run(n);
const us = ((performance.now() - start) * 1000) / n;
console.log(`${us.toFixed(1)} µs per ${entities}-entity snapshot (decode, apply, checksum); ${(us / entities).toFixed(2)} µs per entity`);
