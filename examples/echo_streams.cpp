// examples/echo_streams.cpp: CPython's documentation "TCP echo client and server using
// streams" (docs.python.org/3/library/asyncio-stream.html), both in one program on
// 127.0.0.1: the server echoes one message and closes; the client sends it, reads the echo
// and closes. CTest checks its output (examples.echo_streams): CPython 3.13 prints the same
// lines in the same order for the same program.
//
// Python:
//     async def handle_echo(reader, writer):
//         data = await reader.read(100)
//         message = data.decode()
//         addr = writer.get_extra_info('peername')
//         print(f"Received {message!r} from {addr!r}")
//         print(f"Send: {message!r}")
//         writer.write(data)
//         await writer.drain()
//         print("Close the connection")
//         writer.close()
//         await writer.wait_closed()
//
//     async def tcp_echo_client(message):
//         reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//         print(f'Send: {message!r}')
//         writer.write(message.encode())
//         await writer.drain()
//         data = await reader.read(100)
//         print(f'Received: {data.decode()!r}')
//         print('Close the connection')
//         writer.close()
//         await writer.wait_closed()
#include <asyncio.hpp>

#include <iostream>
#include <string>

namespace {

asyncio::Coro<void> handle_echo(asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    std::string data = co_await reader.read(100);
    auto addr = std::any_cast<asyncio::SocketAddress>(writer.get_extra_info("peername"));
    std::cout << "Received '" << data << "' from '" << addr.host() << "'\n";  // the port varies
    std::cout << "Send: '" << data << "'\n";
    writer.write(data);
    co_await writer.drain();
    std::cout << "Close the connection\n";
    writer.close();
    co_await writer.wait_closed();
}

asyncio::Coro<void> tcp_echo_client(std::string message, int port) {
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    std::cout << "Send: '" << message << "'\n";
    writer.write(message);
    co_await writer.drain();
    std::string data = co_await reader.read(100);
    std::cout << "Received: '" << data << "'\n";
    std::cout << "Close the connection\n";
    writer.close();
    co_await writer.wait_closed();
}

asyncio::Coro<void> main_coro() {
    auto server = co_await asyncio::start_server(handle_echo, "127.0.0.1", 0);
    const int port = server->sockets().at(0)->getsockname().port();
    co_await tcp_echo_client("Hello World!", port);
    server->close();
    co_await server->wait_closed();
    std::cout << "Server closed\n";
}

}  // namespace

int main() { asyncio::run(main_coro()); }
