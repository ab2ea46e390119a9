// examples/echo_protocol.cpp: CPython's documentation "TCP Echo Server" and "TCP Echo Client"
// with protocols (docs.python.org/3/library/asyncio-protocol.html), both in one program on
// 127.0.0.1: the server echoes and closes, the client sends one message and stops the loop
// when the server has closed the connection. CTest checks its output (examples.echo_protocol).
//
// Python:
//     class EchoServerProtocol(asyncio.Protocol):
//         def connection_made(self, transport):
//             peername = transport.get_extra_info('peername')
//             print('Connection from {}'.format(peername))
//             self.transport = transport
//         def data_received(self, data):
//             message = data.decode()
//             print('Data received: {!r}'.format(message))
//             print('Send: {!r}'.format(message))
//             self.transport.write(data)
//             print('Close the client socket')
//             self.transport.close()
#include <asyncio.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <string_view>

namespace {

struct EchoServerProtocol : asyncio::Protocol {
    asyncio::Transport* transport = nullptr;
    void connection_made(asyncio::Transport& t) override {
        auto peer = std::any_cast<asyncio::SocketAddress>(t.get_extra_info("peername"));
        std::cout << "Connection from " << peer.host() << '\n';  // the port varies from run to run
        transport = &t;
    }
    void data_received(std::string_view data) override {
        std::cout << "Data received: '" << data << "'\n";
        std::cout << "Send: '" << data << "'\n";
        transport->write(data);
        std::cout << "Close the client socket\n";
        transport->close();
    }
};

struct EchoClientProtocol : asyncio::Protocol {
    std::string message;
    asyncio::Future<void> on_con_lost;
    EchoClientProtocol(std::string m, asyncio::Future<void> f) : message(std::move(m)), on_con_lost(std::move(f)) {}
    void connection_made(asyncio::Transport& t) override {
        t.write(message);
        std::cout << "Data sent: '" << message << "'\n";
    }
    void data_received(std::string_view data) override { std::cout << "Data received: '" << data << "'\n"; }
    void connection_lost(std::exception_ptr) override {
        std::cout << "The server closed the connection\n";
        on_con_lost.set_result();
    }
};

asyncio::Coro<void> main_coro() {
    auto& loop = asyncio::get_running_loop();
    auto server = co_await loop.create_server([] { return EchoServerProtocol(); }, "127.0.0.1", 0);
    const int port = server->sockets().at(0)->getsockname().port();

    asyncio::Future<void> on_con_lost = loop.create_future<void>();
    auto [transport, protocol] = co_await loop.create_connection(
        [&] { return std::make_unique<EchoClientProtocol>("Hello World!", on_con_lost); }, "127.0.0.1", port);
    // Wait until the protocol signals that the connection is lost, then close the transport.
    co_await on_con_lost;
    transport->close();

    server->close();
    co_await server->wait_closed();
    std::cout << "Server closed\n";
}

}  // namespace

int main() { asyncio::run(main_coro()); }
