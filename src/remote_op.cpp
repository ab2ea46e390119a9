// src/remote_op.cpp: operations finished on other threads for a loop
// (asyncio/detail/remote_op.hpp).
#include <asyncio/detail/remote_op.hpp>

#include "mailbox.hpp"

namespace asyncio::detail {

RemoteOp::RemoteOp(EventLoop& loop) : HandleCore(&loop), mailbox_(LoopAccess::mailbox(loop)) {
    LoopAccess::check_open(loop);
    mailbox_->add_ref();
    RemoteOp*& head = LoopAccess::remote_ops(loop);
    next_ = head;
    if (head) head->prev_ = this;
    head = this;
    linked_ = true;
    add_ref();  // the loop's, given back by unlink()
}

RemoteOp::~RemoteOp() { mailbox_->release(); }

void RemoteOp::unlink() noexcept {
    if (!linked_) return;
    linked_ = false;
    if (prev_)
        prev_->next_ = next_;
    else
        LoopAccess::remote_ops(*loop()) = next_;
    if (next_) next_->prev_ = prev_;
    prev_ = next_ = nullptr;
    release();  // the loop's reference
}

bool RemoteOp::post_home() noexcept { return mailbox_->post(this); }

// The mailbox's reference keeps the op alive through complete() (HandleCore::run drops it).
void RemoteOp::invoke() {
    unlink();
    complete();
}

void RemoteOp::let_go_all(EventLoop& loop) noexcept {
    while (RemoteOp* op = LoopAccess::remote_ops(loop)) {
        op->let_go();
        op->unlink();  // may free it
    }
}

}  // namespace asyncio::detail
