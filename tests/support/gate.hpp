// tests/support/gate.hpp: Gate, a one-shot barrier between threads for the cross-thread
// tests (a function on a worker waits at the gate until the test opens it). Every wait is
// bounded (10 s of wall time), so that a broken test fails instead of hanging.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace asyncio_test {

class Gate {
public:
    void open() {
        std::lock_guard lock(mutex_);
        open_ = true;
        cv_.notify_all();
    }
    // True once open; false if 10 s passed first.
    bool wait() {
        std::unique_lock lock(mutex_);
        return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return open_; });
    }
    [[nodiscard]] bool is_open() {
        std::lock_guard lock(mutex_);
        return open_;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

}  // namespace asyncio_test
