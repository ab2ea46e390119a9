# docs/checks/tutorial_claims.py: checks, against the installed CPython, the claims of the tutorial
# that docs/differences.md says CPython does not bear out. Run: python3 docs/checks/tutorial_claims.py
import asyncio, time, warnings
warnings.simplefilter("always")
async def cpu():
    t=time.perf_counter()
    while time.perf_counter()-t < 0.3: pass
async def c2():
    t=time.perf_counter(); await asyncio.gather(cpu(), cpu()); print("2. two 0.3s CPU-bound coroutines under gather took %.2fs" % (time.perf_counter()-t))
asyncio.run(c2())
async def c3():
    log=[]
    async def slow():
        try: await asyncio.sleep(0.2); log.append("slow finished")
        except asyncio.CancelledError: log.append("slow cancelled"); raise
    async def bad():
        await asyncio.sleep(0.05); raise ValueError("x")
    s=asyncio.create_task(slow())
    try: await asyncio.gather(s, bad())
    except ValueError: pass
    await asyncio.sleep(0.3)
    print("3. after gather raised:", log, "cancelled:", s.cancelled())
asyncio.run(c3())
async def c4():
    async def handle(r, w):
        await r.readline(); await asyncio.sleep(1); w.write(b"ok\n"); await w.drain(); w.close()
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    async def req():
        r, w = await asyncio.open_connection("127.0.0.1", port); w.write(b"hi\n"); await w.drain(); d = await r.readline(); w.close(); return d
    t=time.perf_counter(); res = await asyncio.gather(*[req() for _ in range(5)]); print("4. five 1s requests to a local server via gather took %.2fs" % (time.perf_counter()-t), res)
    srv.close()
asyncio.run(c4())
async def c5():
    try:
        await asyncio.wait([asyncio.sleep(0)])
        print("5. wait accepted a coroutine")
    except TypeError as e: print("5. wait([coroutine]) ->", type(e).__name__, e)
asyncio.run(c5())
async def c6():
    asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
t=time.perf_counter(); asyncio.run(c6()); print("6. run() with a pending 10s task left over returned after %.2fs" % (time.perf_counter()-t))
async def c7():
    ts=[asyncio.create_task(asyncio.sleep(d)) for d in (0.1,0.3)]
    t=time.perf_counter(); done,pending = await asyncio.wait(ts); print("7. default wait returned after %.2fs with %d done, %d pending" % (time.perf_counter()-t, len(done), len(pending)))
asyncio.run(c7())
