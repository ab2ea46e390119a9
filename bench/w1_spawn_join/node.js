// W1 spawn-join (docs/design/benchmarks-method.md), Node.js: N async functions that each return their index; keep
// the promises, then await each in order and sum the results. An async function runs
// eagerly up to its first await, so each of these has finished before the next is called
// (footnote in docs/benchmarks.md).
'use strict';

async function value(i) {
  return i;
}

async function main(n) {
  const start = process.hrtime.bigint();

  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(value(i));
  let sum = 0;
  for (const task of tasks) sum += await task;

  const elapsed = Number(process.hrtime.bigint() - start);
  if (sum !== (n * (n - 1)) / 2) throw new Error(`w1 node: wrong sum ${sum}`);
  console.log(`RESULT workload=w1_spawn_join runtime=node n=${n} ns_per_op=${(elapsed / n).toFixed(2)}`);
}

main(Number(process.argv[2] ?? 1_000_000)).catch((e) => {
  console.error(e);
  process.exit(1);
});
