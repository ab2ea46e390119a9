// src/stream_transport.hpp: the stream transport over a socket or a pipe (CPython's
// _SelectorSocketTransport, _UnixReadPipeTransport and _UnixWritePipeTransport), shared by
// create_connection, the servers, connect_accepted_socket, the pipes and the subprocesses.
// Never installed. How it reads, writes and counts: docs/design/transports.md.
#pragma once

#include <asyncio/detail/io_watcher.hpp>
#include <asyncio/detail/ready_queue.hpp>
#include <asyncio/events.hpp>
#include <asyncio/protocols.hpp>
#include <asyncio/socket.hpp>
#include <asyncio/transports.hpp>

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <asyncio/server.hpp>

namespace asyncio::detail {

// What the transports and create_server reach inside a Server.
struct ServerAccess {
    static std::shared_ptr<Server> make(EventLoop& loop, ProtocolFactory factory, int backlog) {
        return std::shared_ptr<Server>(new Server(loop, std::move(factory), backlog));
    }
    static void attach(Server& s, StreamTransport* t) noexcept { s.attach(t); }
    static void detach(Server& s, StreamTransport* t) noexcept { s.detach(t); }
    // Adds a bound socket (listen() comes with start_serving).
    static void add_socket(Server& s, Socket sock);
    static void set_unix_path(Server& s, std::string path, dev_t device, ino_t inode) {
        s.unix_path_ = std::move(path);
        s.unix_device_ = device;
        s.unix_inode_ = inode;
    }
    static void start(Server& s) { s.start_listening(); }
};

// What the fd of a StreamTransport is: a connected stream socket (both directions), or one
// end of a pipe (or a tty, or a socket used as one).
enum class StreamKind : std::uint8_t {
    socket,
    read_pipe,
    write_pipe
};

class StreamTransport final : public Transport, IoWatcher, IoFlusher, Runnable {
public:
    // Takes `sock` (connected, non-blocking) and `protocol`; registers the fd with the loop
    // and calls protocol->connection_made() before returning. `server`: the server that
    // accepted it, told when the connection is gone.
    static std::shared_ptr<StreamTransport> create(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol, std::shared_ptr<Server> server = {});
    // A pipe transport over `fd` (owned from now on: closed with the transport, also when
    // this throws), made non-blocking; protocol->connection_made() called before returning.
    // Throws ValueError if `fd` is not a pipe, socket or character device (CPython's
    // message), OSError if the loop cannot watch it.
    static std::shared_ptr<StreamTransport> create_pipe(EventLoop& loop, int fd, StreamKind kind, std::unique_ptr<BaseProtocol> protocol);

    StreamTransport(EventLoop& loop, Socket sock, std::unique_ptr<BaseProtocol> protocol, std::shared_ptr<Server> server, StreamKind kind = StreamKind::socket);
    ~StreamTransport() override;

    void close() override;
    // The server's list of its connections (Server::close_clients).
    StreamTransport* server_prev = nullptr;
    StreamTransport* server_next = nullptr;
    [[nodiscard]] bool is_closing() const noexcept override { return closing_; }
    [[nodiscard]] BaseProtocol* get_protocol() const noexcept override { return protocol_.get(); }
    void set_protocol(std::unique_ptr<BaseProtocol> protocol) override;
    void write(std::string_view data) override;
    void write_eof() override;
    [[nodiscard]] bool can_write_eof() const noexcept override { return kind_ != StreamKind::read_pipe; }
    void abort() override;
    void pause_reading() override;
    void resume_reading() override;
    [[nodiscard]] bool is_reading() const noexcept override { return kind_ != StreamKind::write_pipe && !paused_ && !closing_; }
    [[nodiscard]] std::size_t get_write_buffer_size() const noexcept override { return wbuf_.size() - wpos_; }

private:
    [[nodiscard]] std::any extra_info(std::string_view name) const override;
    void write_buffer_limits_changed() override;

    void io_ready(std::uint32_t events) noexcept override;
    void io_loop_closed() noexcept override;
    void io_flush() noexcept override;
    void run() override;
    void drop() noexcept override { step_queued_ = false; }

    void schedule() noexcept;
    void start(std::shared_ptr<StreamTransport> self);
    void read_once();
    // A write pipe's reader went away: lost, with BrokenPipeError if bytes were still due.
    void pipe_reader_gone() noexcept;
    // One send of `len` bytes: send(MSG_NOSIGNAL) on a socket, write() with SIGPIPE held
    // off on a pipe (docs/design/transports.md).
    ssize_t send_some(const char* data, std::size_t len) const noexcept;
    void read_eof();
    void close_internal();
    // Sends what is buffered; false if the kernel took less than all (wait for writable).
    bool flush();
    void after_drained();
    void maybe_pause();
    void maybe_resume();
    // CPython's _fatal_error + _force_close: the connection is lost with `exc`.
    void fatal(std::exception_ptr exc, const char* message) noexcept;
    void force_close(std::exception_ptr exc) noexcept;
    // connection_lost is due: from the next step.
    void lose(std::exception_ptr exc) noexcept;
    void call_connection_lost() noexcept;
    void check_writable() const;
    void report(const char* message, std::exception_ptr exc) noexcept;

    EventLoop* loop_;  // null once the loop is closed
    Socket sock_;      // the fd (a pipe's too: Socket only owns it then)
    StreamKind kind_;
    // Around each call into the protocol: a protocol replaced by set_protocol() during the
    // call is destroyed when the outermost call returns, not under its own feet.
    class ProtocolCall {
    public:
        explicit ProtocolCall(StreamTransport& t) noexcept : t_(t) { ++t_.protocol_calls_; }
        ~ProtocolCall() {
            if (--t_.protocol_calls_ == 0) t_.retired_.clear();
        }
        ProtocolCall(const ProtocolCall&) = delete;
        ProtocolCall& operator=(const ProtocolCall&) = delete;

    private:
        StreamTransport& t_;
    };

    std::unique_ptr<BaseProtocol> protocol_;
    Protocol* stream_ = nullptr;                          // protocol_ as a Protocol, or
    BufferedProtocol* buffered_ = nullptr;                // as a BufferedProtocol
    std::vector<std::unique_ptr<BaseProtocol>> retired_;  // replaced during a protocol call
    int protocol_calls_ = 0;                              // protocol calls under way
    std::shared_ptr<Server> server_;
    std::shared_ptr<StreamTransport> self_;  // while the loop has the fd
    SocketAddress peername_;
    SocketAddress sockname_;

    std::string wbuf_;  // bytes not yet sent: wbuf_[wpos_ ..]
    std::size_t wpos_ = 0;
    std::exception_ptr lost_error_;  // what ended the connection, if an error did

    bool readable_ = false;     // the last edge said readable and no short read since
    bool hangup_ = false;       // the peer hung up (or an error): read to the end
    bool writable_ = true;      // no EAGAIN from send since the last writable edge
    bool paused_ = false;       // pause_reading()
    bool closing_ = false;      // close(), abort() or a fatal error
    bool user_closed_ = false;  // close() or abort() by the user (write() says so)
    bool eof_ = false;          // write_eof()
    bool read_eof_ = false;     // the peer's end of stream was read (or a write pipe): no more reads
    bool shut_wr_ = false;      // the write side is shut down
    bool protocol_paused_ = false;
    bool lost_due_ = false;  // connection_lost is to be called by the next step
    bool lost_ = false;      // connection_lost was called (or the loop closed)
    bool step_queued_ = false;
};

}  // namespace asyncio::detail
