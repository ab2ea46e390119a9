// W4 sleepers (docs/design/benchmarks-method.md), Node.js: N async functions each await a promise that a 1000 ms
// setTimeout resolves (`new Promise((r) => setTimeout(r, 1000))`, the fastest of Node's ways to sleep: the
// timers/promises variant adds an AbortSignal-capable wrapper per call); start all, then await all. The figure is wall
// time minus 1 s. With a second argument J > 0, W4j: each sleep lengthened by 0 to J-1 µs from the shared generator
// (bench/w4_sleepers/asyncio.cpp; Node keeps the fraction of a millisecond), the figure the wall time minus the
// longest sleep.
'use strict';

let woken = 0;

async function sleeper(ms) {
  await new Promise((resolve) => setTimeout(resolve, ms));
  woken++;
}

async function main(n, j) {
  const start = process.hrtime.bigint();

  const tasks = [];
  let lcg = 12345; // the shared generator: a 32-bit LCG, bits 8-31 modulo j
  let longestUs = 0;
  for (let i = 0; i < n; i++) {
    let jitterUs = 0;
    if (j > 0) {
      lcg = (Math.imul(lcg, 1664525) + 1013904223) >>> 0;
      jitterUs = (lcg >>> 8) % j;
    }
    longestUs = Math.max(longestUs, 1_000_000 + jitterUs);
    tasks.push(sleeper(1000 + jitterUs / 1000));
  }
  for (const task of tasks) await task;

  const overhead = Number(process.hrtime.bigint() - start) - longestUs * 1000;
  if (woken !== n) throw new Error(`w4 node: ${woken} woke, expected ${n}`);
  const workload = j > 0 ? 'w4j_jitter' : 'w4_sleepers';
  console.log(
    `RESULT workload=${workload} runtime=node n=${n} ns_per_op=${(overhead / n).toFixed(2)} ` +
      `overhead_ms=${(overhead / 1e6).toFixed(3)}`,
  );
}

main(Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 0)).catch((e) => {
  console.error(e);
  process.exit(1);
});
