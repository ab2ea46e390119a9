// bench/w5_echo/asyncio_streams.cpp: W5 echo (docs/design/benchmarks-method.md), this library
// with streams: start_server's callback reads up to 64 KiB, writes it back and drains, until
// EOF, line for line as bench/w5_echo/cpython_streams.py.
//
//     asyncio_streams [PORT]    (0, the default: any free port)    prints `READY port=N`, then
//                               serves until killed (SIGTERM ends it cleanly).
#include <asyncio.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

asyncio::Coro<void> echo(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    for (;;) {
        std::string data = co_await reader.read(65536);
        if (data.empty()) break;
        writer.write(data);
        co_await writer.drain();
    }
    writer.close();
}

asyncio::Coro<void> serve(int port) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await asyncio::start_server(echo, "127.0.0.1", port);
    std::printf("READY port=%d\n", server->sockets().at(0)->getsockname().port());
    std::fflush(stdout);
    loop.add_signal_handler(SIGTERM, [server] {
        server->close();
        server->abort_clients();
    });
    try {
        co_await server->serve_forever();
    } catch (const asyncio::CancelledError&) {  // SIGTERM closed it
    }
}

}  // namespace

int main(int argc, char** argv) {
    const int port = argc > 1 ? std::atoi(argv[1]) : 0;
    asyncio::run(serve(port));
    return 0;
}
