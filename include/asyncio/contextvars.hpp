// asyncio/contextvars.hpp: ContextVar, Token, Context, copy_context (CPython's contextvars
// module, 3.12 semantics). How contexts are stored, how tasks, callbacks and threads carry
// them, and what that costs: docs/design/contextvars.md.
//
// The current context is per thread (detail::t_context). Null stands for an empty context
// that has no object yet: a thread, a task or a callback that never sets a variable never
// allocates one, and the loop's hot paths compare one pointer with null.
#pragma once

#include <asyncio/detail/frame_pool.hpp>
#include <asyncio/detail/ref.hpp>
#include <asyncio/detail/visibility.hpp>
#include <asyncio/exceptions.hpp>

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace asyncio {

template <class T>
class ContextVar;
template <class T>
class Token;
class Context;

namespace detail {

// One variable's value in a context: made by `var.set(v)`, then shared (never changed) by
// every mapping that holds it, copies of contexts on other threads included.
class ValueBox {
public:
    ValueBox(const ValueBox&) = delete;
    ValueBox& operator=(const ValueBox&) = delete;
    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    // Context ==: the values' operator== where T has one, else the same value object.
    [[nodiscard]] virtual bool equals(const ValueBox& other) const = 0;

protected:
    ValueBox() = default;
    virtual ~ValueBox() = default;

private:
    std::atomic<std::uint32_t> refs_{1};
};

template <class T>
class Box final : public ValueBox, public PoolAllocated {
public:
    explicit Box(T v) : value(std::move(v)) {}
    [[nodiscard]] bool equals(const ValueBox& other) const override {
        if constexpr (std::equality_comparable<T>)
            return value == static_cast<const Box&>(other).value;
        else
            return this == &other;
    }
    const T value;
};

// What a context holds: (variable id, value) pairs sorted by id, immutable once made, shared
// by reference between contexts (copy_context() is one increment). `set` makes a new mapping
// of n + 1 entries (src/contextvars.cpp): contexts hold few variables, so a flat array is
// faster to search and to copy than CPython's HAMT (docs/design/contextvars.md).
struct ContextEntry {
    std::uint64_t key;
    ValueBox* value;  // one reference
};
class ContextMapping {
public:
    ContextMapping(const ContextMapping&) = delete;
    ContextMapping& operator=(const ContextMapping&) = delete;
    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
    }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] const ContextEntry* begin() const noexcept { return reinterpret_cast<const ContextEntry*>(this + 1); }
    [[nodiscard]] const ContextEntry* end() const noexcept { return begin() + size_; }
    // The value of variable `key`, or null.
    [[nodiscard]] ValueBox* find(std::uint64_t key) const noexcept {
        for (const ContextEntry& e : *this) {
            if (e.key >= key) return e.key == key ? e.value : nullptr;
        }
        return nullptr;
    }
    // A mapping of `n` entries, to be filled by the caller (src/contextvars.cpp).
    static ContextMapping* allocate(std::size_t n);
    [[nodiscard]] ContextEntry* entries() noexcept { return reinterpret_cast<ContextEntry*>(this + 1); }

private:
    explicit ContextMapping(std::size_t n) noexcept : size_(static_cast<std::uint32_t>(n)) {}
    ~ContextMapping() = default;
    void destroy() noexcept;

    std::atomic<std::uint32_t> refs_{1};
    std::uint32_t size_;
};
static_assert(sizeof(ContextMapping) == 8 && alignof(ContextEntry) <= 8);

// A Context object: its mapping (replaced by each set, the object itself stays) and whether
// some thread has it entered. Reference counted, atomically: a context is copied to worker
// threads (to_thread) and may be entered on any thread.
class ContextImpl : public PoolAllocated {
public:
    ContextImpl() noexcept = default;
    // Shares `vars` (null: empty).
    explicit ContextImpl(ContextMapping* shared) noexcept : vars(shared) {
        if (shared) shared->add_ref();
    }
    ContextImpl(const ContextImpl&) = delete;
    ContextImpl& operator=(const ContextImpl&) = delete;
    ~ContextImpl() {
        if (vars) vars->release();
    }
    void add_ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
    // Marks the context entered; false if it already is (on any thread).
    bool try_enter() noexcept { return !entered_.exchange(true, std::memory_order_acquire); }
    void leave() noexcept { entered_.store(false, std::memory_order_release); }

    // The variables, one reference; null: none. Read and replaced only by the thread that
    // has the context entered (or by anyone while nobody has).
    ContextMapping* vars = nullptr;

private:
    std::atomic<std::uint32_t> refs_{1};
    std::atomic<bool> entered_{false};
};

// The context current on this thread: entered by Context::run, a task's step, a callback
// scheduled under a context, to_thread's call. Null: an empty context with no object.
ASYNCIO_SHARED_STATE inline thread_local ContextImpl* t_context = nullptr;

// The first `set` (or a task's get_context()) where the current context is null: makes the
// object, entered, current, held by the thread; adopted by the running task if there is one
// (its step began with no context: the task keeps it for its later steps).
ContextImpl* materialize_context();
// Ends a context that materialize_context() made current where the code that was running
// had no context of its own (a callback, a task's step, a thread): t_context becomes null.
void leave_materialized_context() noexcept;
// Where the loop calls code that runs in no context of its own (after each ready item and
// each I/O callback): what that code set is dropped, and the current context is null again.
inline void drop_stray_context() noexcept {
    if (t_context) [[unlikely]]
        leave_materialized_context();
}
// A copy of the current context, for what captures it (create_task, call_soon, to_thread):
// null when the current context holds nothing (a copy of an empty context is one more empty
// context, and null stands for that).
ContextImpl* copy_context_slow(const ContextImpl& c);
inline Ref<ContextImpl> capture_context() {
    ContextImpl* c = t_context;
    if (!c || !c->vars) [[likely]]
        return {};
    return Ref<ContextImpl>(copy_context_slow(*c), adopt_ref);
}
// The same, never null (a new empty context): for what keeps the context across several
// runs, as a reader callback does.
Ref<ContextImpl> capture_context_object();

// The error of entering a context that is entered already, as CPython words it.
[[nodiscard]] std::exception_ptr already_entered_error(const ContextImpl* c);
[[noreturn]] void throw_already_entered(const ContextImpl* c);

// Enters `c` for the scope (CPython's Context.run): current on this thread, marked entered;
// the outer context is current again at the end. A null `c` enters an empty context, and
// drops what was set in it at the end (not for a task's step: a set there goes to the task).
class ContextScope {
public:
    // Throws: RuntimeError if `c` is entered already.
    explicit ContextScope(ContextImpl* c) : c_(c), outer_(t_context) {
        if (c && !c->try_enter()) throw_already_entered(c);
        t_context = c;
    }
    // Without throwing: entered() tells whether `c` could be entered (else nothing changed).
    ContextScope(ContextImpl* c, std::nothrow_t) noexcept : c_(c), outer_(t_context) {
        if (c && !c->try_enter()) {
            refused_ = true;
            return;
        }
        t_context = c;
    }
    ContextScope(const ContextScope&) = delete;
    ContextScope& operator=(const ContextScope&) = delete;
    ~ContextScope() {
        if (refused_) return;
        if (c_)
            c_->leave();
        else
            drop_stray_context();
        t_context = outer_;
    }
    [[nodiscard]] bool entered() const noexcept { return !refused_; }

private:
    ContextImpl* c_;
    ContextImpl* outer_;
    bool refused_ = false;
};

// The variable operations behind ContextVar (src/contextvars.cpp). context_set adopts
// `value` (also on failure) and fills in what the token needs: the context it went into and
// the value it replaced (null: none). context_restore puts `old` back (null: removes).
void context_set(std::uint64_t key, ValueBox* value, Ref<ContextImpl>& context, Ref<ValueBox>& old);
void context_restore(std::uint64_t key, ValueBox* old);
inline ValueBox* context_find(std::uint64_t key) noexcept {
    ContextImpl* c = t_context;
    if (!c || !c->vars) return nullptr;
    return c->vars->find(key);
}
std::uint64_t new_context_var_id() noexcept;
std::string context_var_repr(const std::string& name);
std::string token_repr(const std::string& var_name, bool used);

// The library's side door into Context handles (tasks, callbacks, the runner).
struct ContextAccess {
    static ContextImpl* impl(const Context& c) noexcept;
    static Context make(Ref<ContextImpl> impl) noexcept;
};

}  // namespace detail

/// A context variable: a value per context, read with `get()`, changed with `set()` in the
/// current context only. Tasks run in a copy of their creator's context, so a value set in
/// a task stays in that task (and the tasks it creates afterwards).
///
/// Python: `contextvars.ContextVar(name[, default])`
/// Throws: `get()` raises `LookupError` when the variable has no value and no default.
/// Differs from CPython: typed, `ContextVar<T>`, and T must be copyable: `get()` returns a
///   copy (CPython returns the object itself; hold a `std::shared_ptr` to share one). A
///   ContextVar is an identity, neither copied nor moved (CPython's are objects compared by
///   identity too); keep it alive as long as tokens of it are. No `__class_getitem__`.
template <class T>
class ContextVar {
    static_assert(std::is_copy_constructible_v<T>, "ContextVar<T>: T must be copyable (get() returns a copy); wrap a move-only value in a std::shared_ptr");
    static_assert(!std::is_reference_v<T> && std::is_same_v<T, std::remove_cv_t<T>>, "ContextVar<T>: T must be a plain object type");

public:
    /// A variable without a default.
    ///
    /// Python: `ContextVar(name)`
    explicit ContextVar(std::string name) : id_(detail::new_context_var_id()), name_(std::move(name)) {}
    /// A variable whose `get()` returns `default_value` in contexts that have no value for it.
    ///
    /// Python: `ContextVar(name, default=default_value)`
    ContextVar(std::string name, T default_value) : id_(detail::new_context_var_id()), name_(std::move(name)), default_(std::move(default_value)) {}
    ContextVar(const ContextVar&) = delete;
    ContextVar& operator=(const ContextVar&) = delete;
    ~ContextVar() = default;

    /// Python: `var.name`
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

    /// The value in the current context, else the default.
    ///
    /// Python: `var.get()`
    /// Throws: ``LookupError("<ContextVar name='...'>")`` if there is neither.
    [[nodiscard]] T get() const {
        if (const detail::ValueBox* b = detail::context_find(id_)) return static_cast<const detail::Box<T>*>(b)->value;
        if (default_) return *default_;
        throw LookupError(detail::context_var_repr(name_));
    }
    /// The value in the current context, else `fallback` (even if the variable has a default).
    ///
    /// Python: `var.get(default)`
    [[nodiscard]] T get(T fallback) const {
        if (const detail::ValueBox* b = detail::context_find(id_)) return static_cast<const detail::Box<T>*>(b)->value;
        return fallback;
    }

    /// Sets the value in the current context; the token lets `reset` restore what was there.
    ///
    /// Python: `var.set(value)` -> Token
    /// Throws: `std::bad_alloc`.
    Token<T> set(T value) const {
        Token<T> token(this);
        detail::context_set(id_, new detail::Box<T>(std::move(value)), token.context_, token.old_);
        return token;
    }

    /// Restores the value the variable had in the current context before the `set` that made
    /// `token` (or no value, if it had none); the token is used up.
    ///
    /// Python: `var.reset(token)`
    /// Throws: `RuntimeError("<Token ...> has already been used once")`;
    ///   `ValueError("<Token ...> was created by a different ContextVar")`;
    ///   `ValueError("<Token ...> was created in a different Context")` if the current
    ///   context is not the one the token's `set` changed.
    void reset(Token<T>& token) const {
        if (token.used_) throw RuntimeError(detail::token_repr(token.var_->name(), true) + " has already been used once");
        if (token.var_id_ != id_) throw ValueError(detail::token_repr(token.var_->name(), false) + " was created by a different ContextVar");
        if (token.context_.get() != detail::t_context) throw ValueError(detail::token_repr(name_, false) + " was created in a different Context");
        token.used_ = true;
        detail::context_restore(id_, token.old_.get());
    }

private:
    friend class Context;
    friend class Token<T>;
    std::uint64_t id_;
    std::string name_;
    std::optional<T> default_;
};

/// What `ContextVar::set` returns: enough to undo that set with `var.reset(token)`, once.
///
/// Python: `contextvars.Token`
/// Differs from CPython: move-only (a token is used once; a moved-from token counts as
///   used); `old_value()` is a `std::optional`, empty for CPython's `Token.MISSING`.
template <class T>
class Token {
public:
    /// CPython's `Token.MISSING`: what `old_value()` is when the variable had no value.
    ///
    /// Python: `Token.MISSING`
    static constexpr std::nullopt_t MISSING = std::nullopt;

    /// Takes over `o`; `o` counts as used.
    Token(Token&& o) noexcept : var_(o.var_), var_id_(o.var_id_), context_(std::move(o.context_)), old_(std::move(o.old_)), used_(std::exchange(o.used_, true)) {}
    /// Takes over `o`; `o` counts as used.
    Token& operator=(Token&& o) noexcept {
        var_ = o.var_;
        var_id_ = o.var_id_;
        context_ = std::move(o.context_);
        old_ = std::move(o.old_);
        used_ = std::exchange(o.used_, true);
        return *this;
    }
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;
    ~Token() = default;

    /// The variable the token's `set` changed.
    ///
    /// Python: `token.var`
    [[nodiscard]] const ContextVar<T>& var() const noexcept { return *var_; }
    /// The value the variable had before that `set`; empty if it had none (`MISSING`).
    ///
    /// Python: `token.old_value`
    [[nodiscard]] std::optional<T> old_value() const {
        if (!old_) return std::nullopt;
        return static_cast<const detail::Box<T>*>(old_.get())->value;
    }
    /// Whether `reset` used the token already.
    ///
    /// Python: none (the "used" in `repr(token)`)
    [[nodiscard]] bool used() const noexcept { return used_; }

private:
    friend class ContextVar<T>;
    explicit Token(const ContextVar<T>* var) noexcept : var_(var), var_id_(var->id_) {}

    const ContextVar<T>* var_;
    std::uint64_t var_id_;
    detail::Ref<detail::ContextImpl> context_;
    detail::Ref<detail::ValueBox> old_;
    bool used_ = false;
};

/// A mapping from context variables to values, and the unit that tasks, callbacks and
/// `run()` execute in. Copies of a `Context` handle name the same context (as Python names
/// name the same object); `copy()` makes a new one with the same values.
///
/// Python: `contextvars.Context`
/// Differs from CPython: a handle (copies share the context); `a == b` compares the values
///   (as CPython's mapping equality), `a.is(b)` the identity; the mapping is read one typed
///   variable at a time (`get`, `contains`, `operator[]`): no iteration over keys or values.
///   Use a context from one thread at a time (entering it on two threads at once raises
///   RuntimeError, as CPython; reading one that another thread has entered is a data race).
class Context {
public:
    /// A new, empty context.
    ///
    /// Python: `contextvars.Context()`
    /// Throws: `std::bad_alloc`.
    Context() : impl_(new detail::ContextImpl(), detail::adopt_ref) {}
    /// Another handle to the same context.
    Context(const Context&) noexcept = default;
    /// Makes this a handle to the same context as `o`.
    Context& operator=(const Context&) noexcept = default;
    ~Context() = default;

    /// A new context with the same values (they are shared, not copied: O(1)).
    ///
    /// Python: `ctx.copy()`
    [[nodiscard]] Context copy() const { return Context(detail::Ref<detail::ContextImpl>(new detail::ContextImpl(impl_->vars), detail::adopt_ref)); }

    /// Calls `f(args...)` with this context entered (current on this thread) and returns
    /// what it returns; the previous context is current again afterwards, whatever `f` does.
    /// What `f` sets stays in this context.
    ///
    /// Python: `ctx.run(callable, *args)`
    /// Throws: `RuntimeError("cannot enter context: <Context object at 0x...> is already
    ///   entered")` if this context is entered (here, or on another thread); what `f` throws.
    template <class F, class... A>
    decltype(auto) run(F&& f, A&&... args) const {
        detail::ContextScope scope(impl_.get());
        return std::invoke(std::forward<F>(f), std::forward<A>(args)...);
    }

    /// The variable's value in this context, or nothing (the variable's default is not used).
    ///
    /// Python: `ctx.get(var)`
    template <class T>
    [[nodiscard]] std::optional<T> get(const ContextVar<T>& var) const {
        if (const detail::ValueBox* b = find(var.id_)) return static_cast<const detail::Box<T>*>(b)->value;
        return std::nullopt;
    }
    /// The variable's value in this context, else `fallback`.
    ///
    /// Python: `ctx.get(var, default)`
    template <class T>
    [[nodiscard]] T get(const ContextVar<T>& var, std::type_identity_t<T> fallback) const {
        if (const detail::ValueBox* b = find(var.id_)) return static_cast<const detail::Box<T>*>(b)->value;
        return fallback;
    }
    /// The variable's value in this context.
    ///
    /// Python: `ctx[var]`
    /// Throws: ``KeyError("<ContextVar name='...'>")`` if the context has none.
    template <class T>
    [[nodiscard]] T operator[](const ContextVar<T>& var) const {
        if (const detail::ValueBox* b = find(var.id_)) return static_cast<const detail::Box<T>*>(b)->value;
        throw KeyError(detail::context_var_repr(var.name()));
    }
    /// Whether the context holds a value for the variable.
    ///
    /// Python: `var in ctx`
    template <class T>
    [[nodiscard]] bool contains(const ContextVar<T>& var) const noexcept {
        return find(var.id_) != nullptr;
    }
    /// How many variables have a value in the context.
    ///
    /// Python: `len(ctx)`
    [[nodiscard]] std::size_t size() const noexcept { return impl_->vars ? impl_->vars->size() : 0; }
    /// Whether no variable has a value in the context.
    ///
    /// Python: `not ctx`
    [[nodiscard]] bool empty() const noexcept { return size() == 0; }
    /// Whether both handles name the same context.
    ///
    /// Python: `a is b`
    [[nodiscard]] bool is(const Context& other) const noexcept { return impl_ == other.impl_; }
    /// Whether both contexts hold the same variables with equal values (values of a type
    /// without `operator==` are equal only if they come from the same `set`).
    ///
    /// Python: `a == b`
    friend bool operator==(const Context& a, const Context& b) { return equal(a, b); }

private:
    friend struct detail::ContextAccess;
    explicit Context(detail::Ref<detail::ContextImpl> impl) noexcept : impl_(std::move(impl)) {}
    [[nodiscard]] const detail::ValueBox* find(std::uint64_t key) const noexcept { return impl_->vars ? impl_->vars->find(key) : nullptr; }
    static bool equal(const Context& a, const Context& b);

    detail::Ref<detail::ContextImpl> impl_;  // never null
};

/// A copy of the current context (O(1): the values are shared).
///
/// Python: `contextvars.copy_context()`
/// Throws: `std::bad_alloc`.
[[nodiscard]] Context copy_context();

namespace detail {
inline ContextImpl* ContextAccess::impl(const Context& c) noexcept { return c.impl_.get(); }
inline Context ContextAccess::make(Ref<ContextImpl> impl) noexcept { return Context(std::move(impl)); }
}  // namespace detail

}  // namespace asyncio
