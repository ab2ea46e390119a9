// W8 spawn (docs/design/benchmarks-method.md), Node.js: N runs of /bin/true with child_process.spawn, C at a
// time (C async workers, each awaiting one child's exit after another), every exit code checked.
'use strict';
const { spawn } = require('node:child_process');

function run() {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/true', [], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
  });
}

async function main(n, c) {
  const start = process.hrtime.bigint();
  let next = 0;
  let ok = 0;
  async function worker() {
    while (next < n) {
      next++;
      if ((await run()) === 0) ok++;
    }
  }
  await Promise.all(Array.from({ length: c }, worker));
  const elapsed = Number(process.hrtime.bigint() - start);
  if (ok !== n) throw new Error(`w8 node: ${ok} of ${n} exited 0`);
  console.log(`RESULT workload=w8_spawn runtime=node n=${n} ns_per_op=${(elapsed / n).toFixed(2)}`);
}

main(Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 16)).catch((e) => {
  console.error(e);
  process.exit(1);
});
