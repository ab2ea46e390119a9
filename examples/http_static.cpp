// examples/http_static.cpp: a tiny HTTP/1.0 server for the files of one directory, with
// streams: one task per connection reads the request line and the headers (bounded by the
// stream limit), reads the file on a worker thread (to_thread) and answers with its bytes,
// 404, 403 (a path that climbs out of the root), 405 (not GET) or 400.
//
//     http_static [--port 8080] [--root DIR]   serves until Ctrl-C: curl http://127.0.0.1:8080/
//     http_static --self-test                  serves a directory of its own making on a free
//                                              port, asks itself four requests, prints the
//                                              answers and exits (CTest: examples.http_static)
#include <asyncio.hpp>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream body;
    body << in.rdbuf();
    return body.str();
}

std::string content_type(const std::string& path) {
    auto ends = [&](const char* ext) { return path.size() >= std::char_traits<char>::length(ext) && path.ends_with(ext); };
    if (ends(".html")) return "text/html";
    if (ends(".txt")) return "text/plain";
    if (ends(".css")) return "text/css";
    return "application/octet-stream";
}

std::string response(const std::string& status, const std::string& type, const std::string& body) {
    return "HTTP/1.0 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

asyncio::Coro<void> serve_one(std::string root, asyncio::StreamReader reader, asyncio::StreamWriter writer) {
    std::string answer;
    try {
        std::string head = co_await reader.readuntil("\r\n\r\n");  // request line and headers
        std::istringstream line(head.substr(0, head.find("\r\n")));
        std::string method, target, version;
        line >> method >> target >> version;
        if (method.empty() || target.empty() || target[0] != '/' || !version.starts_with("HTTP/")) {
            answer = response("400 Bad Request", "text/plain", "bad request\n");
        } else if (method != "GET") {
            answer = response("405 Method Not Allowed", "text/plain", "only GET\n");
        } else if (target.find("..") != std::string::npos) {
            answer = response("403 Forbidden", "text/plain", "forbidden\n");
        } else {
            const std::string path = root + (target == "/" ? "/index.html" : target);
            std::optional<std::string> body = co_await asyncio::to_thread(read_file, path);
            answer = body ? response("200 OK", content_type(path), *body) : response("404 Not Found", "text/plain", "not found\n");
        }
    } catch (const asyncio::IncompleteReadError&) {
        co_return;  // the client went away mid-request
    } catch (const asyncio::LimitOverrunError&) {
        answer = response("400 Bad Request", "text/plain", "headers too long\n");
    }
    writer.write(answer);
    co_await writer.drain();
    writer.close();
    co_await writer.wait_closed();
}

asyncio::Coro<std::shared_ptr<asyncio::Server>> start(std::string root, int port) {
    // Named before the co_await: g++ 12 destroys a capturing lambda written inside a co_await
    // expression twice when its captures own memory (a std::string here; docs/differences.md).
    auto handler = [root](asyncio::StreamReader r, asyncio::StreamWriter w) { return serve_one(root, std::move(r), std::move(w)); };
    co_return co_await asyncio::start_server(handler, "127.0.0.1", port);
}

// A client's request and the server's whole answer (HTTP/1.0: it closes when done).
asyncio::Coro<std::string> fetch(int port, std::string request) {
    auto [reader, writer] = co_await asyncio::open_connection("127.0.0.1", port);
    writer.write(request);
    std::string answer = co_await reader.read();
    writer.close();
    co_await writer.wait_closed();
    co_return answer;
}

asyncio::Coro<void> self_test() {
    char dir[] = "/tmp/asyncio-http-XXXXXX";
    if (!::mkdtemp(dir)) throw asyncio::RuntimeError("mkdtemp failed");
    const std::string root = dir;
    const std::string index = root + "/index.html";
    std::ofstream(index) << "<h1>Hello from asyncio for C++</h1>\n";
    auto server = co_await start(root, 0);
    const int port = server->sockets().at(0)->getsockname().port();
    static const char* const requests[] = {"GET / HTTP/1.0\r\n\r\n", "GET /missing.txt HTTP/1.0\r\n\r\n", "GET /../etc/passwd HTTP/1.0\r\n\r\n", "POST / HTTP/1.0\r\n\r\n"};
    for (const char* request : requests) {
        std::string answer = co_await fetch(port, request);
        std::cout << answer.substr(0, answer.find("\r\n")) << '\n';
        if (answer.starts_with("HTTP/1.0 200")) std::cout << answer.substr(answer.find("\r\n\r\n") + 4);
    }
    server->close();
    co_await server->wait_closed();
    ::unlink(index.c_str());
    ::rmdir(dir);
}

asyncio::Coro<void> serve(std::string root, int port) {
    auto server = co_await start(root, port);
    std::cout << "Serving " << root << " on http://127.0.0.1:" << server->sockets().at(0)->getsockname().port() << "/ (Ctrl-C stops)\n"
              << std::flush;
    co_await server->serve_forever();
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    if (!args.empty() && args[0] == "--self-test") {
        asyncio::run(self_test());
        return 0;
    }
    int port = 8080;
    std::string root = ".";
    for (std::size_t i = 0; i + 1 < args.size(); i += 2) {
        if (args[i] == "--port") port = std::atoi(args[i + 1].c_str());
        if (args[i] == "--root") root = args[i + 1];
    }
    try {
        asyncio::run(serve(root, port));
    } catch (const asyncio::KeyboardInterrupt&) {
    }
    return 0;
}
