// src/reactor_epoll.cpp: the epoll backend of the reactor, level-triggered as CPython's
// selectors are (edge-triggered for IoWatchers); it polls the loop's mailbox eventfd (wake-ups
// from other threads and signal handlers, src/mailbox.hpp) and drains it when it fires.
#include "reactor.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <system_error>

namespace asyncio::detail {
namespace {

[[noreturn]] void throw_errno(const char* what) { throw std::system_error(errno, std::generic_category(), what); }

class EpollReactor final : public Reactor {
public:
    explicit EpollReactor(int wakefd) : wakefd_(wakefd) {
        epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (epfd_ < 0) throw_errno("epoll_create1");
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = wakefd_;
        if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev) < 0) {
            ::close(epfd_);
            throw_errno("epoll_ctl");
        }
    }
    EpollReactor(const EpollReactor&) = delete;
    EpollReactor& operator=(const EpollReactor&) = delete;
    ~EpollReactor() override { ::close(epfd_); }  // the wake fd is the mailbox's

    void watch(int fd, std::uint32_t old_events, std::uint32_t new_events) override {
        epoll_event ev{};
        ev.data.fd = fd;
        if (new_events & io_readable) ev.events |= EPOLLIN;
        if (new_events & io_writable) ev.events |= EPOLLOUT;
        if (new_events & io_edge) ev.events |= EPOLLET | EPOLLRDHUP;
        int op = old_events == 0 ? EPOLL_CTL_ADD : (new_events == 0 ? EPOLL_CTL_DEL : EPOLL_CTL_MOD);
        syscalls_.fetch_add(1, std::memory_order_relaxed);
        if (::epoll_ctl(epfd_, op, fd, &ev) < 0) {
            // A closed fd has already left the epoll set; forgetting it is then not an error.
            if (op == EPOLL_CTL_DEL && (errno == EBADF || errno == ENOENT)) return;
            throw_errno("epoll_ctl");
        }
    }

    void poll(int timeout_ms, std::vector<IoEvent>& out) override {
        std::array<epoll_event, 256> evs;
        syscalls_.fetch_add(1, std::memory_order_relaxed);
        int n = ::epoll_wait(epfd_, evs.data(), static_cast<int>(evs.size()), timeout_ms);
        if (n < 0) {
            if (errno == EINTR) return;
            throw_errno("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            const epoll_event& ev = evs[static_cast<std::size_t>(i)];
            if (ev.data.fd == wakefd_) {
                std::uint64_t v;
                syscalls_.fetch_add(1, std::memory_order_relaxed);
                [[maybe_unused]] auto r = ::read(wakefd_, &v, sizeof v);
                continue;
            }
            std::uint32_t e = 0;
            if (ev.events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) e |= io_readable;
            if (ev.events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) e |= io_writable;
            if (ev.events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) e |= io_hangup;
            out.push_back({ev.data.fd, e});
        }
    }

    [[nodiscard]] std::size_t syscalls() const noexcept override { return syscalls_.load(std::memory_order_relaxed); }

private:
    int epfd_ = -1;
    int wakefd_ = -1;
    std::atomic<std::size_t> syscalls_{0};
};

}  // namespace

std::unique_ptr<Reactor> make_epoll_reactor(int wakefd) { return std::make_unique<EpollReactor>(wakefd); }

}  // namespace asyncio::detail
