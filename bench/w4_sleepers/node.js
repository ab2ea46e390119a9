// W4 sleepers (docs/design/benchmarks-method.md), Node.js: N async functions each `await setTimeout(1000)`
// (timers/promises) once; start all, then await all. The figure is wall time minus 1 s.
'use strict';

const { setTimeout } = require('node:timers/promises');

let woken = 0;

async function sleeper() {
  await setTimeout(1000);
  woken++;
}

async function main(n) {
  const start = process.hrtime.bigint();

  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(sleeper());
  for (const task of tasks) await task;

  const overhead = Number(process.hrtime.bigint() - start) - 1e9;
  if (woken !== n) throw new Error(`w4 node: ${woken} woke, expected ${n}`);
  console.log(
    `RESULT workload=w4_sleepers runtime=node n=${n} ns_per_op=${(overhead / n).toFixed(2)} ` +
      `overhead_ms=${(overhead / 1e6).toFixed(3)}`,
  );
}

main(Number(process.argv[2] ?? 1_000_000)).catch((e) => {
  console.error(e);
  process.exit(1);
});
