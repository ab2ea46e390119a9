// asyncio.hpp: the umbrella header, in the order of CPython's asyncio/__init__.py.
#pragma once

#include <asyncio/concurrent/future.hpp>
#include <asyncio/concurrent/thread_pool.hpp>
#include <asyncio/coroutines.hpp>
#include <asyncio/datagrams.hpp>
#include <asyncio/debug.hpp>
#include <asyncio/events.hpp>
#include <asyncio/exceptions.hpp>
#include <asyncio/futures.hpp>
#include <asyncio/locks.hpp>
#include <asyncio/network.hpp>
#include <asyncio/pipes.hpp>
#include <asyncio/protocols.hpp>
#include <asyncio/queues.hpp>
#include <asyncio/runners.hpp>
#include <asyncio/server.hpp>
#include <asyncio/sock_ops.hpp>
#include <asyncio/socket.hpp>
#include <asyncio/streams.hpp>
#include <asyncio/subprocess.hpp>
#include <asyncio/taskgroups.hpp>
#include <asyncio/tasks.hpp>
#include <asyncio/threads.hpp>
#include <asyncio/timeouts.hpp>
#include <asyncio/transports.hpp>
#include <asyncio/version.hpp>
