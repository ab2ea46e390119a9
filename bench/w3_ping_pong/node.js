// W3 ping-pong (docs/design/benchmarks-method.md), Node.js: two async functions pass a token through two queues of
// size 1; the ponger adds one on each round trip, so the token comes back as M. Node has no
// async queue of its own: AsyncQueue below is the usual small promise-based one (footnote
// in docs/benchmarks.md).
'use strict';

class AsyncQueue {
  constructor(maxsize) {
    this.maxsize = maxsize;
    this.items = [];
    this.getters = []; // resolve functions of waiting get()s
    this.putters = []; // resolve functions of waiting put()s
  }

  async put(item) {
    while (this.items.length >= this.maxsize) {
      await new Promise((resolve) => this.putters.push(resolve));
    }
    this.items.push(item);
    const getter = this.getters.shift();
    if (getter) getter();
  }

  async get() {
    while (this.items.length === 0) {
      await new Promise((resolve) => this.getters.push(resolve));
    }
    const item = this.items.shift();
    const putter = this.putters.shift();
    if (putter) putter();
    return item;
  }
}

async function ping(out, inbox, m) {
  let token = 0;
  for (let i = 0; i < m; i++) {
    await out.put(token);
    token = await inbox.get();
  }
  return token;
}

async function pong(inbox, out, m) {
  for (let i = 0; i < m; i++) {
    const token = await inbox.get();
    await out.put(token + 1);
  }
}

async function main(m) {
  const start = process.hrtime.bigint();

  const there = new AsyncQueue(1);
  const back = new AsyncQueue(1);
  const pinger = ping(there, back, m);
  const ponger = pong(there, back, m);
  const token = await pinger;
  await ponger;

  const elapsed = Number(process.hrtime.bigint() - start);
  if (token !== m) throw new Error(`w3 node: token ${token}, expected ${m}`);
  console.log(`RESULT workload=w3_ping_pong runtime=node n=${m} ns_per_op=${(elapsed / m).toFixed(2)}`);
}

main(Number(process.argv[2] ?? 1_000_000)).catch((e) => {
  console.error(e);
  process.exit(1);
});
