// src/thread_pool.cpp: ThreadPoolExecutor (asyncio/concurrent/thread_pool.hpp), CPython's
// concurrent/futures/thread.py: a FIFO of jobs, threads started while none is idle, up to
// max_workers.
#include <asyncio/concurrent/thread_pool.hpp>

#include "spin.hpp"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace asyncio::concurrent {

// What the threads share with the executor; each thread holds it, so that a thread still
// running when the executor is gone (a shutdown that gave up waiting) finds it alive.
struct ThreadPoolExecutor::Shared {
    std::mutex mutex;
    std::condition_variable work;   // a job came, or shutdown
    std::condition_variable ended;  // a thread ended
    detail::ExecutorJob* head = nullptr;
    detail::ExecutorJob* tail = nullptr;
    std::size_t idle = 0;      // threads waiting for work (spinning or asleep)
    std::size_t sleepers = 0;  // of those, asleep on `work`: only they need a notify
    // Jobs in the list: changed under the mutex, read without it by the spinners.
    std::atomic<std::size_t> queued{0};
    std::atomic<bool> stopping{false};      // shutdown, for the spinners
    std::atomic<std::size_t> finishing{0};  // threads past their job's work (executor_job_finishing)
    std::size_t running = 0;                // threads started and not ended
    std::size_t started = 0;                // for the names
    std::size_t max_workers = 0;
    bool shutdown = false;
    bool no_wait = false;  // shutdown(wait=false) was called: the destructor does not wait
    std::string prefix;
    std::vector<std::thread> threads;

    detail::ExecutorJob* pop() noexcept {
        detail::ExecutorJob* j = head;
        if (j) {
            queued.fetch_sub(1, std::memory_order_relaxed);
            head = j->job_next;
            if (!head) tail = nullptr;
            j->job_next = nullptr;
        }
        return j;
    }
};

namespace {

std::atomic<int> g_executor_count{0};

// The worker's pool, and whether its current job said it is finishing.
thread_local ThreadPoolExecutor::Shared* t_pool = nullptr;
thread_local bool t_finishing = false;

void worker(std::shared_ptr<ThreadPoolExecutor::Shared> s, const std::string& name) {
    // Signals go to the loop's thread (add_signal_handler, Ctrl-C), never to a worker.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    t_pool = s.get();
    std::unique_lock lock(s->mutex);
    for (;;) {
        if (detail::ExecutorJob* j = s->pop()) {
            lock.unlock();
            j->run_job();
            lock.lock();
            if (std::exchange(t_finishing, false)) s->finishing.fetch_sub(1, std::memory_order_relaxed);
            continue;
        }
        if (s->shutdown) break;
        ++s->idle;
        // The next call often comes right after the answer to this one (a task awaiting
        // to_thread in a loop): spin a little before sleeping (src/spin.hpp).
        lock.unlock();
        bool more = detail::spin_until(
            [&] { return s->queued.load(std::memory_order_acquire) > 0 || s->stopping.load(std::memory_order_relaxed); },
            std::chrono::microseconds(50));
        lock.lock();
        if (!more) {
            ++s->sleepers;
            s->work.wait(lock, [&] { return s->head || s->shutdown; });
            --s->sleepers;
        }
        --s->idle;
    }
    --s->running;
    s->ended.notify_all();
}

}  // namespace

}  // namespace asyncio::concurrent

namespace asyncio::detail {
void executor_job_finishing() noexcept {
    if (concurrent::t_pool && !concurrent::t_finishing) {
        concurrent::t_finishing = true;
        concurrent::t_pool->finishing.fetch_add(1, std::memory_order_relaxed);
    }
}
}  // namespace asyncio::detail

namespace asyncio::concurrent {

// Not in the header: Shared is private there, and worker() needs it by name.
ThreadPoolExecutor::ThreadPoolExecutor(long max_workers, std::string thread_name_prefix) : shared_(std::make_shared<Shared>()) {
    if (max_workers < 0) throw ValueError("max_workers must be greater than 0");
    if (max_workers == 0) {
        unsigned cores = std::max(1u, std::thread::hardware_concurrency());
        max_workers = std::min<long>(32, static_cast<long>(cores) + 4);
    }
    shared_->max_workers = static_cast<std::size_t>(max_workers);
    shared_->prefix = thread_name_prefix.empty() ? "ThreadPoolExecutor-" + std::to_string(g_executor_count++)
                                                 : std::move(thread_name_prefix);
}

ThreadPoolExecutor::~ThreadPoolExecutor() {
    bool wait;
    {
        std::lock_guard lock(shared_->mutex);
        wait = !shared_->no_wait;
    }
    shutdown(wait, false);
    std::lock_guard lock(shared_->mutex);
    for (std::thread& t : shared_->threads) t.detach();  // they hold `shared_`
    shared_->threads.clear();
}

std::size_t ThreadPoolExecutor::max_workers() const noexcept { return shared_->max_workers; }

std::size_t ThreadPoolExecutor::thread_count() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->running;
}

void ThreadPoolExecutor::post(detail::ExecutorJob* job) {
    Shared& s = *shared_;
    std::unique_lock lock(s.mutex);
    if (s.shutdown) throw RuntimeError("cannot schedule new futures after shutdown");
    // A thread first, while it can still fail (std::system_error, std::bad_alloc) with the
    // job still the caller's: CPython's _adjust_thread_count, one more thread only when none
    // is idle.
    if (s.idle + s.finishing.load(std::memory_order_relaxed) == 0 && s.running < s.max_workers) {
        std::string name = s.prefix + "_" + std::to_string(s.started);
        s.threads.reserve(s.threads.size() + 1);
        s.threads.emplace_back(worker, shared_, std::move(name));
        ++s.started;
        ++s.running;
    }
    job->job_next = nullptr;
    if (s.tail)
        s.tail->job_next = job;
    else
        s.head = job;
    s.tail = job;
    s.queued.fetch_add(1, std::memory_order_release);
    // A spinning thread finds the job by itself; a sleeping one needs the futex, once there
    // are more jobs than spinners.
    if (s.sleepers > 0 && s.queued.load(std::memory_order_relaxed) > s.idle - s.sleepers) s.work.notify_one();
}

void ThreadPoolExecutor::do_shutdown(bool wait, bool cancel_futures) {
    Shared& s = *shared_;
    detail::ExecutorJob* cancelled = nullptr;
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(s.mutex);
        s.shutdown = true;
        s.stopping.store(true, std::memory_order_relaxed);
        if (!wait) s.no_wait = true;
        if (cancel_futures) {
            cancelled = s.head;
            s.head = s.tail = nullptr;
            s.queued.store(0, std::memory_order_relaxed);
        }
        if (wait) threads.swap(s.threads);
    }
    s.work.notify_all();
    while (cancelled) {
        detail::ExecutorJob* next = cancelled->job_next;
        cancelled->cancel_job();
        cancelled = next;
    }
    for (std::thread& t : threads) {
        if (t.get_id() == std::this_thread::get_id())
            t.detach();  // shutdown from a job of this pool: it cannot wait for itself
        else
            t.join();
    }
}

bool ThreadPoolExecutor::shutdown_and_wait_for(std::chrono::steady_clock::duration timeout) {
    shutdown(false, false);
    Shared& s = *shared_;
    std::vector<std::thread> threads;
    {
        std::unique_lock lock(s.mutex);
        bool all = s.ended.wait_for(lock, timeout, [&] { return s.running == 0; });
        threads.swap(s.threads);
        if (!all) {
            for (std::thread& t : threads) t.detach();  // they end on their own, holding `s`
            return false;
        }
    }
    for (std::thread& t : threads) t.join();  // each has returned or is returning from worker()
    return true;
}

}  // namespace asyncio::concurrent
