// W2 yield storm (docs/design/benchmarks-method.md), Node.js: T async functions each yield to the event loop Y times
// with `await new Promise((r) => setImmediate(r))`: the loop phase of timers/promises' setImmediate, without its
// AbortSignal-capable wrapper (about a third faster).
'use strict';

let count = 0;

async function yielder(yields) {
  for (let i = 0; i < yields; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    count++;
  }
}

async function main(nTasks, yields) {
  const start = process.hrtime.bigint();

  const tasks = [];
  for (let t = 0; t < nTasks; t++) tasks.push(yielder(yields));
  for (const task of tasks) await task;

  const elapsed = Number(process.hrtime.bigint() - start);
  const total = nTasks * yields;
  if (count !== total) throw new Error(`w2 node: ${count} yields, expected ${total}`);
  console.log(`RESULT workload=w2_yield_storm runtime=node n=${total} ns_per_op=${(elapsed / total).toFixed(2)}`);
}

main(Number(process.argv[2] ?? 1_000), Number(process.argv[3] ?? 1_000)).catch((e) => {
  console.error(e);
  process.exit(1);
});
