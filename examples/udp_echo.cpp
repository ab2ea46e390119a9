// examples/udp_echo.cpp: CPython's documentation "UDP Echo Server" and "UDP Echo Client"
// (docs.python.org/3/library/asyncio-protocol.html), both in one program on 127.0.0.1 (the
// server on a port the system picks). CTest checks the output (examples.udp_echo); CPython
// prints the same lines in the same order for the same program.
//
// Python:
//     class EchoServerProtocol:
//         def connection_made(self, transport):
//             self.transport = transport
//         def datagram_received(self, data, addr):
//             message = data.decode()
//             print('Received %r from %s' % (message, addr))
//             print('Send %r to %s' % (message, addr))
//             self.transport.sendto(data, addr)
//
//     class EchoClientProtocol:
//         def __init__(self, message, on_con_lost):
//             self.message = message
//             self.on_con_lost = on_con_lost
//             self.transport = None
//         def connection_made(self, transport):
//             self.transport = transport
//             print('Send:', self.message)
//             self.transport.sendto(self.message.encode())
//         def datagram_received(self, data, addr):
//             print("Received:", data.decode())
//             print("Close the socket")
//             self.transport.close()
//         def error_received(self, exc):
//             print('Error received:', exc)
//         def connection_lost(self, exc):
//             print("Connection closed")
//             self.on_con_lost.set_result(True)
#include <asyncio.hpp>

#include <iostream>
#include <string>

struct EchoServerProtocol : asyncio::DatagramProtocol {
    asyncio::DatagramTransport* transport = nullptr;
    void connection_made(asyncio::DatagramTransport& t) override { transport = &t; }
    void datagram_received(std::string_view data, const asyncio::SocketAddress& addr) override {
        std::cout << "Received '" << data << "' from " << addr.str() << "\n";
        std::cout << "Send '" << data << "' to " << addr.str() << "\n";
        transport->sendto(data, addr);
    }
};

struct EchoClientProtocol : asyncio::DatagramProtocol {
    EchoClientProtocol(std::string m, asyncio::Future<bool> lost) : message(std::move(m)), on_con_lost(std::move(lost)) {}
    std::string message;
    asyncio::Future<bool> on_con_lost;
    asyncio::DatagramTransport* transport = nullptr;
    void connection_made(asyncio::DatagramTransport& t) override {
        transport = &t;
        std::cout << "Send: " << message << "\n";
        transport->sendto(message);
    }
    void datagram_received(std::string_view data, const asyncio::SocketAddress&) override {
        std::cout << "Received: " << data << "\n";
        std::cout << "Close the socket\n";
        transport->close();
    }
    void error_received(std::exception_ptr exc) override {
        try {
            std::rethrow_exception(exc);
        } catch (const std::exception& e) {
            std::cout << "Error received: " << e.what() << "\n";
        }
    }
    void connection_lost(std::exception_ptr) override {
        std::cout << "Connection closed\n";
        on_con_lost.set_result(true);
    }
};

asyncio::Coro<void> amain() {
    auto& loop = asyncio::get_running_loop();
    asyncio::DatagramEndpointOptions server_options;
    server_options.local_addr = std::pair<std::string, int>("127.0.0.1", 0);
    auto [server, unused] = co_await loop.create_datagram_endpoint([] { return EchoServerProtocol(); }, server_options);
    const auto where = std::any_cast<asyncio::SocketAddress>(server->get_extra_info("sockname"));

    asyncio::Future<bool> on_con_lost = loop.create_future<bool>();
    asyncio::DatagramEndpointOptions client_options;
    client_options.remote_addr = std::pair<std::string, int>("127.0.0.1", where.port());
    auto factory = [&] { return std::make_unique<EchoClientProtocol>("Hello World!", on_con_lost); };
    auto [client, protocol] = co_await loop.create_datagram_endpoint(factory, client_options);
    co_await on_con_lost;
    server->close();
}

int main() { asyncio::run(amain()); }
