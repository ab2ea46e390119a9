// asyncio/detail/protocol_factory.hpp: what the datagram and subprocess calls share about a
// protocol factory: a callable returning a protocol by value or as std::unique_ptr, turned
// into a std::function that returns a std::unique_ptr<Base>, the protocol type it makes, and
// the (transport, protocol) pair typed as the caller's protocol.
#pragma once

#include <asyncio/coroutines.hpp>

#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

namespace asyncio::detail {

template <class T>
struct PointeeOr {
    using type = T;
};
template <class T>
struct PointeeOr<std::unique_ptr<T>> {
    using type = T;
};

// The protocol type `F` makes: P for a callable returning P or std::unique_ptr<P>.
template <class Base, class F>
struct MadeProtocol {
    using result = std::decay_t<std::invoke_result_t<std::decay_t<F>&>>;
    using type = typename PointeeOr<result>::type;
    static_assert(std::is_base_of_v<Base, type>, "the protocol factory must return the kind of protocol this call drives (by value or as a unique_ptr)");
};

template <class Base, class F>
std::function<std::unique_ptr<Base>()> make_factory_of(F&& f) {
    using R = typename MadeProtocol<Base, F>::result;
    return [f = std::decay_t<F>(std::forward<F>(f))]() mutable -> std::unique_ptr<Base> {
        if constexpr (std::is_convertible_v<R, std::unique_ptr<Base>>)
            return f();
        else
            return std::make_unique<R>(f());
    };
}

// A made (transport, protocol) pair with the protocol as the factory's own type.
template <class P, class T, class Base>
Coro<std::pair<std::shared_ptr<T>, P*>> typed_pair(Coro<std::pair<std::shared_ptr<T>, Base*>> made) {
    auto got = co_await std::move(made);
    co_return std::pair<std::shared_ptr<T>, P*>(std::move(got.first), static_cast<P*>(got.second));
}

}  // namespace asyncio::detail
