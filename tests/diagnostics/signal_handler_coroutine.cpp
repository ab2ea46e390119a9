// expect: coroutines cannot be used as signal handlers
#include <asyncio.hpp>
#include <csignal>
asyncio::Coro<void> on_term() { co_return; }
void misuse(asyncio::EventLoop& loop) { loop.add_signal_handler(SIGTERM, on_term); }
