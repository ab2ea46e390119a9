// asyncio/detail/ref.hpp: Ref<T>, the one intrusive reference behind every handle (Handle,
// TimerHandle, AnyTask, Task, Future): T counts its own references with add_ref()/release().
#pragma once

#include <utility>

namespace asyncio::detail {

// Tag: take over a reference the caller already holds instead of adding one.
struct AdoptRef {
    explicit AdoptRef() = default;
};
inline constexpr AdoptRef adopt_ref{};

template <class T>
class Ref {
public:
    Ref() noexcept = default;
    // Shares `p`: adds a reference.
    explicit Ref(T* p) noexcept : p_(p) {
        if (p_) p_->add_ref();
    }
    // Takes over the reference the caller holds on `p`.
    Ref(T* p, AdoptRef) noexcept : p_(p) {}
    Ref(const Ref& o) noexcept : Ref(o.p_) {}
    Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Ref& operator=(Ref o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~Ref() {
        if (p_) p_->release();
    }

    [[nodiscard]] T* get() const noexcept { return p_; }
    T* operator->() const noexcept { return p_; }
    T& operator*() const noexcept { return *p_; }
    // Gives the reference up to the caller (the pointer keeps it; nothing is released).
    [[nodiscard]] T* detach() noexcept { return std::exchange(p_, nullptr); }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    // Gives the reference up to the caller (who must release it).
    [[nodiscard]] T* leak() noexcept { return std::exchange(p_, nullptr); }

    friend bool operator==(const Ref& a, const Ref& b) noexcept { return a.p_ == b.p_; }

private:
    T* p_ = nullptr;
};

}  // namespace asyncio::detail
