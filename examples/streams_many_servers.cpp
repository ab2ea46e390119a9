// examples/streams_many_servers.cpp: one client asks five local servers at once, with gather
// and a timeout on each question: four answer, one never does and is given up on after
// 0.2 s, its connection closed. CTest checks the output (examples.streams_many_servers).
//
// Python:
//     async def ask(port, question):
//         try:
//             async with asyncio.timeout(0.2):
//                 reader, writer = await asyncio.open_connection('127.0.0.1', port)
//                 writer.write(question.encode() + b'\n')
//                 answer = (await reader.readline()).decode().rstrip('\n')
//                 writer.close()
//                 await writer.wait_closed()
//                 return answer
//         except TimeoutError:
//             return 'timed out'
//
//     answers = await asyncio.gather(*(ask(port, 'hello') for port in ports))
#include <asyncio.hpp>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

// One question, one answer.
asyncio::Coro<std::string> exchange(int port, std::string question) {
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    writer.write(question + "\n");
    std::string answer = co_await reader.readline();
    writer.close();
    co_await writer.wait_closed();
    if (!answer.empty() && answer.back() == '\n') answer.pop_back();
    co_return answer;
}

asyncio::Coro<std::string> ask(int port, std::string question) {
    try {
        co_return co_await asyncio::wait_for(exchange(port, std::move(question)), 0.2);
    } catch (const asyncio::TimeoutError&) {
        co_return "timed out";  // the connection was closed as the exchange was cancelled
    }
}

asyncio::Coro<void> main_coro() {
    constexpr int count = 5;
    constexpr int silent = 3;  // this one reads the question and never answers
    std::vector<std::shared_ptr<asyncio::Server>> servers;
    std::vector<int> ports;
    for (int i = 0; i < count; ++i) {
        auto server = co_await asyncio::start_server(
            [i](asyncio::StreamReader reader, asyncio::StreamWriter writer) -> asyncio::Coro<void> {
                std::string question = co_await reader.readline();
                if (i == silent) {
                    (void)co_await reader.read();  // until the client gives up
                    co_return;
                }
                writer.write("server " + std::to_string(i) + " heard: " + question);
                co_await writer.drain();
                writer.close();
                co_await writer.wait_closed();
            },
            "127.0.0.1", 0);
        ports.push_back(server->sockets().at(0)->getsockname().port());
        servers.push_back(std::move(server));
    }

    std::vector<asyncio::Coro<std::string>> questions;
    for (int port : ports) questions.push_back(ask(port, "hello"));
    std::vector<std::string> answers = co_await asyncio::gather(std::move(questions));

    int answered = 0;
    for (int i = 0; i < count; ++i) {
        std::cout << "server " << i << ": " << answers[static_cast<std::size_t>(i)] << '\n';
        if (answers[static_cast<std::size_t>(i)] != "timed out") ++answered;
    }
    std::cout << "Asked " << count << " at once; " << answered << " answered.\n";
    for (auto& server : servers) {
        server->close();
        co_await server->wait_closed();
    }
}

}  // namespace

int main() { asyncio::run(main_coro()); }
