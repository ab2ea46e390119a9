"""W5 echo (docs/design/benchmarks-method.md), CPython asyncio (or uvloop with --uvloop) with streams: start_server's
callback reads up to 64 KiB, writes it back and drains, until EOF.

    python3 cpython_streams.py [--uvloop] [PORT]    (0, the default: any free port)    prints `READY port=N`, then
                                                    serves until killed.
"""
import asyncio
import sys


async def echo(reader, writer):
    while True:
        data = await reader.read(65536)
        if not data:
            break
        writer.write(data)
        await writer.drain()
    writer.close()


async def main(port):
    server = await asyncio.start_server(echo, "127.0.0.1", port)
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
