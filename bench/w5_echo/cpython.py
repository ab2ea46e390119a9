"""W5 echo (docs/design/benchmarks-method.md), CPython asyncio (or uvloop with --uvloop): a TCP echo server with a
Protocol whose data_received writes the data back (transport.write). Both loops set TCP_NODELAY on TCP transports
themselves. The read size is each loop's own: 256 KiB for asyncio's selector loop, 256,000 bytes for uvloop.

    python3 cpython.py [--uvloop] [PORT]    (0, the default: any free port)    prints `READY port=N`, then serves
                                            until killed.
"""
import asyncio
import sys


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)


async def main(port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Echo, "127.0.0.1", port)
    print(f"READY port={server.sockets[0].getsockname()[1]}", flush=True)
    await server.serve_forever()


args = sys.argv[1:]
uv = "--uvloop" in args
args = [a for a in args if a != "--uvloop"]
port = int(args[0]) if args else 0
if uv:
    import uvloop
    uvloop.install()
asyncio.run(main(port))
