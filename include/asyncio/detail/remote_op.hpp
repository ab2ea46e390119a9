// asyncio/detail/remote_op.hpp: an operation that another thread finishes for a loop (a
// to_thread call, a wrapped concurrent future) and then sends home, where the rest of it runs
// as a callback of the loop (docs/design/threads.md).
//
// The rule it keeps: what belongs to the loop (a Future, a waiting task, their reference
// counts, which are not atomic) is touched on the loop's thread only. The other thread holds
// the op (atomic count) and the loop's mailbox, never the loop: sending home after the loop
// closed is refused (post_home() returns false), and by then the loop has told every op it
// had to let go of the loop's objects (let_go()), so the other thread can drop the op
// without touching any of them.
//
// The loop holds a reference to each op until it comes home or the loop closes, so that an
// op never dies on another thread while it still holds the loop's objects.
#pragma once

#include <asyncio/events.hpp>

namespace asyncio::detail {

class Mailbox;

class RemoteOp : public HandleCore {
public:
    // On the loop's thread: the op belongs to `loop` until it comes home or the loop closes
    // (the loop's reference; the caller has the op's first one, as with every HandleCore).
    // Throws: RuntimeError("Event loop is closed").
    explicit RemoteOp(EventLoop& loop);
    RemoteOp(const RemoteOp&) = delete;
    RemoteOp& operator=(const RemoteOp&) = delete;

    // Any thread, once: queues the op in the loop's mailbox; complete() will run on the loop.
    // False if the loop has closed (let_go() ran): the op was not queued.
    bool post_home() noexcept;

    // close(): every op not home yet lets go of the loop's objects (before the mailbox
    // closes, so that a later post_home() is refused).
    static void let_go_all(EventLoop& loop) noexcept;

protected:
    ~RemoteOp() override;

    // On the loop's thread: the op came home.
    virtual void complete() = 0;
    // On the loop's thread: the loop closes before the op came home. Drop the references to
    // the loop's objects; complete() will not run.
    virtual void let_go() noexcept = 0;
    // On the loop's thread, when the op has dropped the loop's objects itself and will not
    // need to come home: it leaves the loop's list (and the loop's reference goes) now.
    void let_go_early() noexcept { unlink(); }

private:
    void invoke() final;
    void unlink() noexcept;

    Mailbox* mailbox_;
    RemoteOp* prev_ = nullptr;  // the loop's ops not home yet (LoopAccess::remote_ops)
    RemoteOp* next_ = nullptr;
    bool linked_ = false;
};

}  // namespace asyncio::detail
