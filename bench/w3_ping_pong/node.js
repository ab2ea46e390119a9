// W3 ping-pong (docs/design/benchmarks-method.md), Node.js: two async functions pass a token through two queues of
// size 1; the ponger adds one on each round trip, so the token comes back as M. Node has no
// async queue of its own: AsyncQueue below is a lean one whose put() and get() return a promise only when they must
// wait, so a hand-over that needs no wait costs no promise and no microtask (footnote in docs/benchmarks.md).
'use strict';

class AsyncQueue {
  constructor(maxsize) {
    this.maxsize = maxsize;
    this.items = [];
    this.getters = []; // resolve functions of waiting get()s: each is handed its item
    this.putters = []; // [resolve, item] of waiting put()s
  }

  // undefined if the item went in at once, else a promise that resolves once it did.
  put(item) {
    const getter = this.getters.shift();
    if (getter) {
      getter(item);
      return undefined;
    }
    if (this.items.length < this.maxsize) {
      this.items.push(item);
      return undefined;
    }
    return new Promise((resolve) => this.putters.push([resolve, item]));
  }

  // { value } at once if an item is there, else a promise of the item.
  get() {
    if (this.items.length > 0) {
      const value = this.items.shift();
      const putter = this.putters.shift();
      if (putter) {
        this.items.push(putter[1]);
        putter[0]();
      }
      return { value };
    }
    return new Promise((resolve) => this.getters.push(resolve));
  }
}

async function ping(out, inbox, m) {
  let token = 0;
  for (let i = 0; i < m; i++) {
    const waiting = out.put(token);
    if (waiting !== undefined) await waiting;
    const got = inbox.get();
    token = got instanceof Promise ? await got : got.value;
  }
  return token;
}

async function pong(inbox, out, m) {
  for (let i = 0; i < m; i++) {
    const got = inbox.get();
    const token = got instanceof Promise ? await got : got.value;
    const waiting = out.put(token + 1);
    if (waiting !== undefined) await waiting;
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
