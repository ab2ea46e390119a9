// Every row of docs/python-to-cpp.md, named through <asyncio.hpp> alone (trio's
// test_exports): a missing or misspelled export fails to compile.
#include <asyncio.hpp>
#include <asyncio/testing.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace {

asyncio::Coro<int> one() { co_return 1; }

}  // namespace

TEST(Exports, EveryDocumentedNameIsReachableFromTheUmbrellaHeader) {
    // coroutines, tasks, futures
    static_assert(asyncio::iscoroutine<asyncio::Coro<int>>);
    static_assert(asyncio::isfuture<asyncio::Future<int>>);
    static_assert(std::is_base_of_v<asyncio::AnyTask, asyncio::Task<int>>);
    [[maybe_unused]] auto create = static_cast<asyncio::Task<int> (*)(asyncio::Coro<int>, asyncio::detail::SourceSite)>(&asyncio::create_task<int>);
    [[maybe_unused]] auto create_named = static_cast<asyncio::Task<int> (*)(asyncio::Coro<int>, std::string, asyncio::detail::SourceSite)>(&asyncio::create_task<int>);
    [[maybe_unused]] auto idle = &asyncio::testing::run_until_idle;
    [[maybe_unused]] auto fast_refused = &asyncio::testing::set_fast_spawn_refused;
    [[maybe_unused]] auto fast_count = &asyncio::testing::fast_spawns;
    [[maybe_unused]] auto pidfd_refused = &asyncio::testing::set_pidfd_refused;
    [[maybe_unused]] auto ensure = static_cast<asyncio::Task<int> (*)(asyncio::Coro<int>)>(&asyncio::ensure_future<int>);
    [[maybe_unused]] auto current = &asyncio::current_task;
    [[maybe_unused]] auto all = static_cast<std::unordered_set<asyncio::AnyTask> (*)()>(&asyncio::all_tasks);
    [[maybe_unused]] auto run = static_cast<int (*)(asyncio::Coro<int>, asyncio::Runner::LoopFactory)>(&asyncio::run<int>);
    [[maybe_unused]] auto run_with = static_cast<int (*)(asyncio::Coro<int>, asyncio::Runner::Options)>(&asyncio::run<int>);
    // the await graph and the debugging tools
    [[maybe_unused]] asyncio::FutureCallGraph fcg;
    [[maybe_unused]] asyncio::FrameCallGraphEntry fcge;
    [[maybe_unused]] auto ccg = static_cast<asyncio::FutureCallGraph (*)(const asyncio::AnyTask&, asyncio::detail::SourceSite)>(&asyncio::capture_call_graph);
    [[maybe_unused]] auto fmg = static_cast<std::string (*)(const asyncio::FutureCallGraph&)>(&asyncio::format_call_graph);
    [[maybe_unused]] auto pcg = static_cast<void (*)(const asyncio::FutureCallGraph&, std::FILE*)>(&asyncio::print_call_graph);
    [[maybe_unused]] auto flg = &asyncio::debug::format_loop_graph;
    [[maybe_unused]] asyncio::debug::StallDetector* sd = nullptr;
    [[maybe_unused]] auto set_debug = &asyncio::EventLoop::set_debug;
    [[maybe_unused]] auto slow = &asyncio::EventLoop::slow_callback_duration;
    [[maybe_unused]] asyncio::Runner* runner = nullptr;
    [[maybe_unused]] asyncio::DoneCallbackId id{};
    // context variables
    [[maybe_unused]] asyncio::ContextVar<int>* cvar = nullptr;
    [[maybe_unused]] asyncio::Token<int>* token = nullptr;
    [[maybe_unused]] asyncio::Context context;
    [[maybe_unused]] auto copy_ctx = &asyncio::copy_context;
    [[maybe_unused]] auto create_in = static_cast<asyncio::Task<int> (*)(asyncio::Coro<int>, std::string, asyncio::Context, asyncio::detail::SourceSite)>(&asyncio::create_task<int>);
    [[maybe_unused]] auto task_ctx = &asyncio::AnyTask::get_context;
    // structured concurrency
    [[maybe_unused]] asyncio::TaskGroup* tg = nullptr;
    [[maybe_unused]] asyncio::Timeout* cm = nullptr;
    [[maybe_unused]] auto rw = asyncio::FIRST_COMPLETED;
    static_assert(asyncio::FIRST_EXCEPTION != asyncio::ALL_COMPLETED);
    [[maybe_unused]] auto tag = asyncio::return_exceptions;
    [[maybe_unused]] asyncio::Outcome<int> outcome(1);
    [[maybe_unused]] asyncio::WaitResult<asyncio::Task<int>> wr;
    [[maybe_unused]] auto ac = &asyncio::as_completed<std::vector<asyncio::Task<int>>&>;
    [[maybe_unused]] auto wf = &asyncio::wait_for<asyncio::Task<int>>;
    [[maybe_unused]] auto sh = &asyncio::shield<asyncio::Task<int>>;
    [[maybe_unused]] auto g = static_cast<asyncio::Coro<std::tuple<int>> (*)(asyncio::Coro<int>)>(&asyncio::gather<asyncio::Coro<int>>);
    [[maybe_unused]] auto w = static_cast<asyncio::Coro<asyncio::WaitResult<asyncio::Task<int>>> (*)(std::vector<asyncio::Task<int>>, asyncio::ReturnWhen)>(&asyncio::wait);
    // the loop
    [[maybe_unused]] auto gr = &asyncio::get_running_loop;
    [[maybe_unused]] auto nl = &asyncio::new_event_loop;
    [[maybe_unused]] asyncio::Handle h;
    [[maybe_unused]] asyncio::TimerHandle th;
    [[maybe_unused]] asyncio::ExceptionContext ctx;
    [[maybe_unused]] asyncio::Delay d(0.5);
    // threads, executors and signals
    [[maybe_unused]] auto wrap = &asyncio::wrap_future<int>;
    [[maybe_unused]] auto rct = &asyncio::run_coroutine_threadsafe<int>;
    [[maybe_unused]] auto tt = [] { return asyncio::to_thread([] { return 1; }); };
    [[maybe_unused]] auto tto = [](asyncio::concurrent::Executor& e) { return asyncio::to_thread_on(e, [] {}); };
    [[maybe_unused]] auto rie = [](asyncio::EventLoop& l) { return l.run_in_executor(nullptr, [] {}); };
    [[maybe_unused]] auto sde = static_cast<void (asyncio::EventLoop::*)(std::shared_ptr<asyncio::concurrent::ThreadPoolExecutor>)>(
        &asyncio::EventLoop::set_default_executor);
    [[maybe_unused]] auto shde = static_cast<asyncio::Coro<void> (asyncio::EventLoop::*)(asyncio::Delay)>(
        &asyncio::EventLoop::shutdown_default_executor);
    [[maybe_unused]] auto ash = [](asyncio::EventLoop& l) { l.add_signal_handler(SIGUSR1, [] {}); };
    [[maybe_unused]] auto rsh = &asyncio::EventLoop::remove_signal_handler;
    [[maybe_unused]] asyncio::concurrent::Future<int> cf;
    [[maybe_unused]] asyncio::concurrent::Executor* ex = nullptr;
    [[maybe_unused]] asyncio::concurrent::ThreadPoolExecutor* pool = nullptr;
    // sockets, transports, protocols, servers
    [[maybe_unused]] asyncio::Socket sock;
    [[maybe_unused]] asyncio::SocketAddress addr;
    [[maybe_unused]] asyncio::AddrInfo ai;
    [[maybe_unused]] auto pair = &asyncio::socketpair;
    [[maybe_unused]] auto srecv = &asyncio::EventLoop::sock_recv;
    [[maybe_unused]] auto srecvi = &asyncio::EventLoop::sock_recv_into;
    [[maybe_unused]] auto srecvf = &asyncio::EventLoop::sock_recvfrom;
    [[maybe_unused]] auto srecvfi = &asyncio::EventLoop::sock_recvfrom_into;
    [[maybe_unused]] auto ssend = &asyncio::EventLoop::sock_sendall;
    [[maybe_unused]] auto ssendto = &asyncio::EventLoop::sock_sendto;
    [[maybe_unused]] auto sconn = &asyncio::EventLoop::sock_connect;
    [[maybe_unused]] auto sacc = &asyncio::EventLoop::sock_accept;
    [[maybe_unused]] auto gai = static_cast<asyncio::Coro<std::vector<asyncio::AddrInfo>> (asyncio::EventLoop::*)(std::string, int, int, int, int, int)>(
        &asyncio::EventLoop::getaddrinfo);
    [[maybe_unused]] auto gni = &asyncio::EventLoop::getnameinfo;
    struct P : asyncio::Protocol {};
    [[maybe_unused]] auto cc = [](asyncio::EventLoop& l) { return l.create_connection([] { return P(); }, "127.0.0.1", 1); };
    [[maybe_unused]] auto cuc = [](asyncio::EventLoop& l) { return l.create_unix_connection([] { return P(); }, "/x"); };
    [[maybe_unused]] auto cas = [](asyncio::EventLoop& l, asyncio::Socket s) { return l.connect_accepted_socket([] { return P(); }, std::move(s)); };
    [[maybe_unused]] auto cs = [](asyncio::EventLoop& l) { return l.create_server([] { return P(); }, "127.0.0.1", 0, {.backlog = 10}); };
    [[maybe_unused]] auto cus = [](asyncio::EventLoop& l) { return l.create_unix_server([] { return P(); }, "/x"); };
    [[maybe_unused]] asyncio::Server* server = nullptr;
    [[maybe_unused]] asyncio::BaseTransport* bt = nullptr;
    [[maybe_unused]] asyncio::Transport* tr = nullptr;
    static_assert(std::is_base_of_v<asyncio::BaseProtocol, asyncio::Protocol>);
    static_assert(std::is_base_of_v<asyncio::BaseProtocol, asyncio::BufferedProtocol>);
    [[maybe_unused]] asyncio::ConnectionOptions copts;
    [[maybe_unused]] asyncio::ServerOptions sopts;
    [[maybe_unused]] asyncio::UnixServerOptions uopts;
    [[maybe_unused]] asyncio::ConnectionOptions happy{.happy_eyeballs_delay = 0.25, .interleave = 1};
    [[maybe_unused]] void (asyncio::BaseTransport::*setp)(std::unique_ptr<asyncio::BaseProtocol>) = &asyncio::BaseTransport::set_protocol;
    // streams
    [[maybe_unused]] auto oc = [] { return asyncio::open_connection("127.0.0.1", 1); };
    [[maybe_unused]] auto ouc = [] { return asyncio::open_unix_connection("/x"); };
    [[maybe_unused]] auto ss = [] { return asyncio::start_server([](asyncio::StreamReader, asyncio::StreamWriter) {}, "127.0.0.1", 0); };
    [[maybe_unused]] auto sus = [] { return asyncio::start_unix_server([](asyncio::StreamReader, asyncio::StreamWriter) -> asyncio::Coro<void> { co_return; }, "/x"); };
    asyncio::StreamReader sreader(asyncio::stream_default_limit);
    static_assert(std::is_base_of_v<asyncio::BufferedProtocol, asyncio::StreamReaderProtocol>);
    [[maybe_unused]] asyncio::StreamWriter* swriter = nullptr;
    static_assert(std::is_base_of_v<asyncio::EOFError, asyncio::IncompleteReadError>);
    static_assert(std::is_base_of_v<std::exception, asyncio::LimitOverrunError>);
    EXPECT_EQ(sreader.limit(), 65536u);
    // locks and queues
    [[maybe_unused]] asyncio::Lock lock;
    [[maybe_unused]] asyncio::LockGuard guard;
    [[maybe_unused]] asyncio::Event event;
    [[maybe_unused]] asyncio::Condition cond;
    [[maybe_unused]] asyncio::Semaphore sem;
    [[maybe_unused]] asyncio::BoundedSemaphore bsem;
    [[maybe_unused]] asyncio::SemaphoreGuard sem_guard;
    [[maybe_unused]] asyncio::Barrier barrier(1);
    [[maybe_unused]] asyncio::Queue<int> q;
    [[maybe_unused]] asyncio::PriorityQueue<int> pq;
    [[maybe_unused]] asyncio::LifoQueue<int> lq;
    // exceptions
    static_assert(std::is_base_of_v<asyncio::BaseException, asyncio::CancelledError>);
    static_assert(std::is_base_of_v<asyncio::BaseException, asyncio::KeyboardInterrupt>);
    static_assert(std::is_base_of_v<asyncio::OSError, asyncio::TimeoutError>);
    static_assert(std::is_base_of_v<std::exception, asyncio::OSError>);
    static_assert(std::is_base_of_v<asyncio::OSError, asyncio::ConnectionError>);
    static_assert(std::is_base_of_v<asyncio::ConnectionError, asyncio::ConnectionResetError>);
    static_assert(std::is_base_of_v<asyncio::ConnectionError, asyncio::ConnectionRefusedError>);
    static_assert(std::is_base_of_v<asyncio::ConnectionError, asyncio::ConnectionAbortedError>);
    static_assert(std::is_base_of_v<asyncio::ConnectionError, asyncio::BrokenPipeError>);
    static_assert(std::is_base_of_v<asyncio::OSError, asyncio::GaiError>);
    static_assert(std::is_base_of_v<asyncio::OSError, asyncio::BlockingIOError>);
    static_assert(std::is_base_of_v<asyncio::OSError, asyncio::FileNotFoundError>);
    static_assert(std::is_base_of_v<asyncio::OSError, asyncio::NotADirectoryError>);
    static_assert(std::is_base_of_v<asyncio::OSError, asyncio::IsADirectoryError>);
    static_assert(std::is_base_of_v<asyncio::RuntimeError, asyncio::DeadlockError>);
    [[maybe_unused]] auto waiting = &asyncio::debug::waiting_tasks;
    [[maybe_unused]] auto dump = &asyncio::debug::dump_on_signal;
    [[maybe_unused]] auto ose = &asyncio::os_error;
    static_assert(std::is_base_of_v<std::exception, asyncio::InvalidStateError>);
    static_assert(std::is_base_of_v<std::exception, asyncio::RuntimeError>);
    static_assert(std::is_base_of_v<std::exception, asyncio::ValueError>);
    static_assert(std::is_base_of_v<std::exception, asyncio::LookupError>);
    static_assert(std::is_base_of_v<asyncio::LookupError, asyncio::KeyError>);
    static_assert(std::is_base_of_v<std::exception, asyncio::ExceptionGroup>);
    static_assert(std::is_base_of_v<asyncio::RuntimeError, asyncio::BrokenBarrierError>);
    static_assert(std::is_base_of_v<std::exception, asyncio::QueueEmpty>);
    static_assert(std::is_base_of_v<std::exception, asyncio::QueueFull>);
    static_assert(std::is_base_of_v<std::exception, asyncio::QueueShutDown>);
    [[maybe_unused]] auto star = &asyncio::except_star;
    [[maybe_unused]] auto desc = &asyncio::describe;
    EXPECT_EQ(asyncio::run(one()), 1);
    EXPECT_TRUE(q.empty());
    EXPECT_FALSE(lock.locked());
}

// <asyncio/version.hpp>, generated from the one version in CMakeLists.txt.
TEST(Exports, VersionMatchesItsParts) {
    std::string expected = std::to_string(ASYNCIO_VERSION_MAJOR) + "." + std::to_string(ASYNCIO_VERSION_MINOR) + "." + std::to_string(ASYNCIO_VERSION_PATCH);
    EXPECT_EQ(std::string(asyncio::version), expected);
    EXPECT_EQ(std::string(ASYNCIO_VERSION_STRING), expected);
}
