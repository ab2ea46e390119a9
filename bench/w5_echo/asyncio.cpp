// bench/w5_echo/asyncio.cpp: W5 echo (docs/design/benchmarks-method.md), this library: CPython's
// documentation echo server with a Protocol, line for line as bench/w5_echo/cpython.py —
// data_received writes the data back. The transport sets TCP_NODELAY itself; the read size
// is CPython's 256 KiB.
//
//     asyncio [PORT]    (0, the default: any free port)    prints `READY port=N`, then serves
//                       until killed (SIGTERM ends it cleanly).
#include <asyncio.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace {

struct Echo : asyncio::Protocol {
    asyncio::Transport* transport = nullptr;
    void connection_made(asyncio::Transport& t) override { transport = &t; }
    void data_received(std::string_view data) override { transport->write(data); }
};

asyncio::Coro<void> serve(int port) {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return Echo(); }, "127.0.0.1", port);
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
