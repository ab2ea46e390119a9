// asyncio/detail/awaitable.hpp: what counts as an awaitable where CPython takes one
// (create_task, ensure_future, gather, wait_for, shield): a Coro, a Task, a Future, or one
// of the library's own awaiters (sleep, Queue.get, Lock.acquire ...), which are coroutines
// in CPython and here objects with await_ready/await_suspend/await_resume.
#pragma once

#include <type_traits>
#include <utility>

namespace asyncio {

template <class T>
class Coro;
template <class T>
class Task;
template <class T>
class Future;
class AnyTask;

namespace detail {

// False, but only once instantiated: the condition of a static_assert that explains a misuse
// in an overload chosen for it (tests/diagnostics/ checks the messages).
template <class...>
inline constexpr bool misuse = false;

template <class A>
struct IsHandle : std::false_type {};  // Coro, Task, AnyTask, Future: handled one by one
template <class T>
struct IsHandle<Coro<T>> : std::true_type {};
template <class T>
struct IsHandle<Task<T>> : std::true_type {};
template <class T>
struct IsHandle<Future<T>> : std::true_type {};
template <>
struct IsHandle<AnyTask> : std::true_type {};

template <class A>
concept HasMemberCoAwait = requires(A& a) { a.operator co_await(); };
template <class A>
concept IsAwaiter = requires(A& a) {
    a.await_ready();
    a.await_resume();
};

// An awaiter object of the library (or the user's) that is not a Coro or a handle: what
// CPython would see as a coroutine object. It must be movable until awaited, since it is
// moved into the task or combinator that awaits it.
// clang-format 14 would break this concept inside its template arguments.
// clang-format off
template <class A>
concept PlainAwaitable = !IsHandle<std::remove_cvref_t<A>>::value && (HasMemberCoAwait<std::remove_cvref_t<A>> || IsAwaiter<std::remove_cvref_t<A>>) &&
                         std::is_move_constructible_v<std::remove_cvref_t<A>>;
// clang-format on

template <class A>
struct IsCoro : std::false_type {};
template <class T>
struct IsCoro<Coro<T>> : std::true_type {};

// A callable that returns a Coro when called with `args...` (a coroutine lambda, say),
// which create_task(f, args...) keeps alive in the task.
// clang-format 14 would break this concept inside its template arguments.
// clang-format off
template <class F, class... A>
concept CoroutineCallable = std::is_invocable_v<std::decay_t<F>&, std::decay_t<A>&...> &&
                            IsCoro<std::invoke_result_t<std::decay_t<F>&, std::decay_t<A>&...>>::value;
// clang-format on

// What `co_await a` gives.
template <class A>
struct AwaiterResult {
    using type = decltype(std::declval<A&>().await_resume());
};
template <HasMemberCoAwait A>
struct AwaiterResult<A> {
    using type = decltype(std::declval<A&>().operator co_await().await_resume());
};
template <class A>
using awaiter_result_t = typename AwaiterResult<std::remove_cvref_t<A>>::type;

}  // namespace detail
}  // namespace asyncio
