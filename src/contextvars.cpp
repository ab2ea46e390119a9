// src/contextvars.cpp: the out-of-line parts of contextvars (include/asyncio/contextvars.hpp):
// the mappings copied on write, the current context made on first use, the messages
// (CPython's Python/context.c). How contexts travel with tasks, callbacks and threads:
// docs/design/contextvars.md.
#include <asyncio/contextvars.hpp>
#include <asyncio/detail/task_core.hpp>

#include <atomic>
#include <cstdio>
#include <new>
#include <string>

namespace asyncio {
namespace detail {
namespace {

constexpr std::size_t mapping_bytes(std::size_t n) noexcept { return sizeof(ContextMapping) + n * sizeof(ContextEntry); }

// `m` with variable `key` set to `value` (each value one more reference).
ContextMapping* mapping_with(const ContextMapping* m, std::uint64_t key, ValueBox* value) {
    const std::size_t n = m ? m->size() : 0;
    const bool replace = m && m->find(key);
    ContextMapping* out = ContextMapping::allocate(replace ? n : n + 1);
    ContextEntry* e = out->entries();
    bool placed = false;
    if (m) {
        for (const ContextEntry& old : *m) {
            if (!placed && old.key >= key) {
                *e++ = {key, value};
                placed = true;
                if (old.key == key) continue;
            }
            *e++ = old;
        }
    }
    if (!placed) *e = {key, value};
    for (ContextEntry* p = out->entries(); p != out->entries() + out->size(); ++p) p->value->add_ref();
    return out;
}

// `m` without variable `key` (null if nothing is left); `m` itself, one more reference, if
// it has no such variable.
ContextMapping* mapping_without(ContextMapping* m, std::uint64_t key) {
    if (!m->find(key)) {
        m->add_ref();
        return m;
    }
    if (m->size() == 1) return nullptr;
    ContextMapping* out = ContextMapping::allocate(m->size() - 1);
    ContextEntry* e = out->entries();
    for (const ContextEntry& old : *m) {
        if (old.key == key) continue;
        *e = old;
        e->value->add_ref();
        ++e;
    }
    return out;
}

// Releases the current context of a thread that made one (a `set` at the top of a thread, or
// in a worker's call that carries no context), when the thread ends.
struct ThreadContext {
    bool armed = false;
    ThreadContext() = default;
    ThreadContext(const ThreadContext&) = delete;
    ThreadContext& operator=(const ThreadContext&) = delete;
    ~ThreadContext() {
        if (t_context) leave_materialized_context();
    }
};
thread_local ThreadContext t_thread_context;

std::atomic<std::uint64_t> g_var_ids{0};

}  // namespace

ContextMapping* ContextMapping::allocate(std::size_t n) { return new (pool_allocate(mapping_bytes(n))) ContextMapping(n); }

void ContextMapping::destroy() noexcept {
    for (const ContextEntry& e : *this) e.value->release();
    const std::size_t bytes = mapping_bytes(size_);
    this->~ContextMapping();
    pool_deallocate(this, bytes);
}

ContextImpl* materialize_context() {
    TaskCore* task = TaskCore::running();
    if (ContextImpl* own = task ? task->context() : nullptr) {
        // The task got its context during this step (get_context() while another context
        // was entered): that one is the step's from here on.
        (void)own->try_enter();
        own->add_ref();  // the thread's reference
        t_context = own;
        return own;
    }
    auto* c = new ContextImpl();  // the thread's reference
    (void)c->try_enter();
    if (task) {
        // A step that began with no context: the task keeps this one for its later steps
        // (the loop leaves it when the step ends, drop_stray_context).
        try {
            task->adopt_context(c);
        } catch (...) {
            c->release();
            throw;
        }
    } else {
        t_thread_context.armed = true;  // registers the thread's end
    }
    t_context = c;
    return c;
}

void leave_materialized_context() noexcept {
    ContextImpl* c = t_context;
    t_context = nullptr;
    c->leave();
    c->release();
}

ContextImpl* copy_context_slow(const ContextImpl& c) { return new ContextImpl(c.vars); }

Ref<ContextImpl> capture_context_object() {
    ContextImpl* c = t_context;
    return Ref<ContextImpl>(new ContextImpl(c ? c->vars : nullptr), adopt_ref);
}

std::exception_ptr already_entered_error(const ContextImpl* c) {
    char address[32];
    std::snprintf(address, sizeof address, "%p", static_cast<const void*>(c));
    return std::make_exception_ptr(RuntimeError(std::string("cannot enter context: <Context object at ") + address + "> is already entered"));
}

void throw_already_entered(const ContextImpl* c) { std::rethrow_exception(already_entered_error(c)); }

void context_set(std::uint64_t key, ValueBox* value, Ref<ContextImpl>& context, Ref<ValueBox>& old) {
    Ref<ValueBox> v(value, adopt_ref);
    ContextImpl* c = t_context;
    if (!c) c = materialize_context();
    ContextMapping* m = c->vars;
    ContextMapping* next = mapping_with(m, key, v.get());
    old = Ref<ValueBox>(m ? m->find(key) : nullptr);
    context = Ref<ContextImpl>(c);
    c->vars = next;
    if (m) m->release();
}

void context_restore(std::uint64_t key, ValueBox* old) {
    ContextImpl* c = t_context;  // the token's context (reset checked it), never null
    ContextMapping* m = c->vars;
    ContextMapping* next = old ? mapping_with(m, key, old) : m ? mapping_without(m, key)
                                                               : nullptr;
    c->vars = next;
    if (m) m->release();
}

std::uint64_t new_context_var_id() noexcept { return g_var_ids.fetch_add(1, std::memory_order_relaxed) + 1; }

std::string context_var_repr(const std::string& name) { return "<ContextVar name='" + name + "'>"; }

std::string token_repr(const std::string& var_name, bool used) { return std::string("<Token ") + (used ? "used " : "") + "var=" + context_var_repr(var_name) + ">"; }

}  // namespace detail

Context copy_context() { return detail::ContextAccess::make(detail::capture_context_object()); }

bool Context::equal(const Context& a, const Context& b) {
    if (a.impl_ == b.impl_) return true;
    const detail::ContextMapping* x = a.impl_->vars;
    const detail::ContextMapping* y = b.impl_->vars;
    if (x == y) return true;
    if (!x || !y || x->size() != y->size()) return false;  // (no mapping is ever empty: null is)
    for (const detail::ContextEntry *p = x->begin(), *q = y->begin(); p != x->end(); ++p, ++q) {
        if (p->key != q->key) return false;
        if (p->value != q->value && !p->value->equals(*q->value)) return false;
    }
    return true;
}

}  // namespace asyncio
