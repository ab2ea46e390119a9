// W5 echo (docs/design/benchmarks-method.md), asio: a TCP echo server on a single-threaded io_context
// (concurrency hint 1), C++20 coroutines as asio's own echo example writes it: one coroutine accepts, one coroutine
// per connection reads up to 64 KiB (async_read_some) and writes it back (async_write). asio leaves TCP_NODELAY off
// by default: it is set on each accepted socket.
//
//     asio [PORT]    (0, the default: any free port)    prints `READY port=N`, then serves until killed.
#include <asio.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <exception>

namespace {

using asio::ip::tcp;

asio::awaitable<void> echo(tcp::socket socket) {
    std::array<char, 64 * 1024> data;  // in the coroutine's frame
    try {
        for (;;) {
            std::size_t n = co_await socket.async_read_some(asio::buffer(data), asio::use_awaitable);
            co_await asio::async_write(socket, asio::buffer(data, n), asio::use_awaitable);
        }
    } catch (const std::exception&) {  // end of file or a reset: the connection is done
    }
}

asio::awaitable<void> listen(tcp::acceptor acceptor) {
    for (;;) {
        tcp::socket socket = co_await acceptor.async_accept(asio::use_awaitable);
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), echo(std::move(socket)), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 0);
    asio::io_context ctx(ASIO_CONCURRENCY_HINT_UNSAFE);  // asio's documented hint for one thread: no locking
    tcp::acceptor acceptor(ctx, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    std::printf("READY port=%u\n", static_cast<unsigned>(acceptor.local_endpoint().port()));
    std::fflush(stdout);
    asio::co_spawn(ctx, listen(std::move(acceptor)), [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
    });
    ctx.run();
    return 0;
}
