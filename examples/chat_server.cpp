// examples/chat_server.cpp: a line-based chat server with streams. Each client first sends
// its name, then lines; every line goes to the other clients as "name: line". Each client is
// a TaskGroup of two tasks: one reads its lines into the room, one writes the room's
// messages from the client's own Queue (so that a slow client never holds up the others;
// drain() is its flow control). SIGTERM or Ctrl-C closes the server and every client, and
// the program ends once all of them have.
//
//     chat_server [--port 8888]   serves until SIGTERM or Ctrl-C: `nc 127.0.0.1 8888`
//     chat_server --self-test     two clients of its own talk, then it sends itself SIGTERM
//                                 (CTest: examples.chat_server checks the output)
#include <asyncio.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

struct Room {
    std::map<std::string, asyncio::Queue<std::string>*> members;  // each client's outbox
    int clients = 0;                                              // client tasks still running
    asyncio::Event empty;                                         // set when the last one ends
    void say(const std::string& from, const std::string& line) {
        for (auto& [name, outbox] : members)
            if (name != from) outbox->put_nowait(from + ": " + line);
    }
};

std::string chomp(std::string line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
}

asyncio::Coro<void> read_lines(Room& room, const std::string& name, asyncio::StreamReader& reader) {
    while (auto line = co_await reader.next_line()) room.say(name, chomp(*line));
}

asyncio::Coro<void> write_lines(asyncio::Queue<std::string>& outbox, asyncio::StreamWriter& writer) {
    for (;;) {
        std::string message = co_await outbox.get();
        writer.write(message + "\n");
        co_await writer.drain();
    }
}

// Counts a client task for as long as it runs: the server's wait_closed() waits for the
// connections, not for the tasks that served them, and the room must outlive those.
struct ClientCount {
    Room& room;
    explicit ClientCount(Room& r) : room(r) {
        ++room.clients;
        room.empty.clear();
    }
    ~ClientCount() {
        if (--room.clients == 0) room.empty.set();
    }
    ClientCount(const ClientCount&) = delete;
    ClientCount& operator=(const ClientCount&) = delete;
};

asyncio::Coro<void> client(Room& room, asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    ClientCount counted(room);
    std::string name = chomp(co_await reader.readline());
    if (name.empty() || room.members.contains(name)) {
        writer.write("name taken or empty\n");
        writer.close();
        co_return;
    }
    asyncio::Queue<std::string> outbox;
    room.members[name] = &outbox;
    room.say(name, "(joined)");
    try {
        co_await asyncio::TaskGroup::run([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
            tg.create_task(write_lines(outbox, writer));
            co_await read_lines(room, name, reader);  // until the client leaves
            tg.cancel();                              // then the writer stops too
        });
    } catch (const std::exception&) {  // a connection error ends this client only
    }
    room.members.erase(name);
    room.say(name, "(left)");
    writer.close();
}

asyncio::Coro<std::shared_ptr<asyncio::Server>> start(Room& room, int port) {
    co_return co_await asyncio::start_server([&room](asyncio::StreamReader r, asyncio::StreamWriter w) { return client(room, std::move(r), std::move(w)); },
                                             "127.0.0.1", port);
}

// Stops on SIGTERM or SIGINT: the server closes, every client is closed, and once all are
// gone the main task returns.
constexpr int stop_signals[] = {SIGTERM, SIGINT};

asyncio::Coro<void> serve_until_signal(Room& room, const std::shared_ptr<asyncio::Server>& server) {
    auto& loop = asyncio::get_running_loop();
    asyncio::Event stop;
    for (int sig : stop_signals) loop.add_signal_handler(sig, [&stop] { stop.set(); });
    co_await stop.wait();
    server->close();
    server->close_clients();
    co_await server->wait_closed();
    if (room.clients > 0) co_await room.empty.wait();  // and every client task has ended
    for (int sig : stop_signals) loop.remove_signal_handler(sig);
    std::cout << "server stopped\n";
}

asyncio::Coro<void> self_test() {
    Room room;
    auto server = co_await start(room, 0);
    const int port = server->sockets().at(0)->getsockname().port();
    auto serving = asyncio::create_task(serve_until_signal(room, server));
    auto [alice_in, alice_out] = co_await asyncio::open_connection("127.0.0.1", port);
    auto [bob_in, bob_out] = co_await asyncio::open_connection("127.0.0.1", port);
    alice_out.write("alice\n");
    for (int i = 0; i < 100 && !room.members.contains("alice"); ++i) co_await asyncio::sleep(0.01);
    bob_out.write("bob\n");
    std::cout << "alice got: " << chomp(co_await alice_in.readline()) << '\n';
    alice_out.write("hello, bob\n");
    std::cout << "bob got: " << chomp(co_await bob_in.readline()) << '\n';
    bob_out.write("hi, alice\n");
    std::cout << "alice got: " << chomp(co_await alice_in.readline()) << '\n';
    std::raise(SIGTERM);  // as `kill` would
    co_await serving;
    std::cout << "alice's connection ended: " << (co_await alice_in.read()).empty() << '\n';
    std::cout << "bob's connection ended: " << (co_await bob_in.read()).empty() << '\n';
}

asyncio::Coro<void> serve(int port) {
    Room room;
    auto server = co_await start(room, port);
    std::cout << "chat on 127.0.0.1:" << server->sockets().at(0)->getsockname().port() << " (SIGTERM or Ctrl-C stops)\n"
              << std::flush;
    co_await serve_until_signal(room, server);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "--self-test") {
        asyncio::run(self_test());
        return 0;
    }
    const int port = args.size() >= 2 && args[0] == "--port" ? std::atoi(args[1].c_str()) : 8888;
    asyncio::run(serve(port));
    return 0;
}
