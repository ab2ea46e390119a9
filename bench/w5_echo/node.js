// W5 echo (docs/design/benchmarks-method.md), Node.js: a TCP echo server, net.createServer with
// socket.on('data', d => socket.write(d)); libuv reads up to 64 KiB at a time. Node leaves TCP_NODELAY off by
// default (net.Socket's noDelay is false): it is set on each accepted socket.
//
//     node node.js [PORT]    (0, the default: any free port)    prints `READY port=N`, then serves until killed.
'use strict';
const net = require('node:net');

const port = Number(process.argv[2] ?? 0);
const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  socket.on('data', (d) => socket.write(d));
  socket.on('error', () => socket.destroy());  // a reset by the load generator: the connection is done
});
server.listen(port, '127.0.0.1', () => {
  console.log(`READY port=${server.address().port}`);
});
