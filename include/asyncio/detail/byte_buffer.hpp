// asyncio/detail/byte_buffer.hpp: a growable byte queue, CPython's `bytearray` as a stream
// buffer uses it (append at the back, delete from the front), without zero-filling the room
// it makes and without moving the bytes on every delete: the unread bytes are
// [head, tail) of one allocation; they move to the front only when room is needed at the
// back, they fit, and no more of them are left than were read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>

namespace asyncio::detail {

class ByteBuffer {
public:
    [[nodiscard]] std::size_t size() const noexcept { return tail_ - head_; }
    [[nodiscard]] bool empty() const noexcept { return tail_ == head_; }
    [[nodiscard]] std::string_view view() const noexcept { return {data_.get() + head_, size()}; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    // Counts the consumes and clears: a reader that scanned the buffer and waits knows from
    // it whether the bytes it scanned are still where it left them.
    [[nodiscard]] std::uint64_t consumes() const noexcept { return consumes_; }

    void append(std::string_view bytes) {
        if (bytes.empty()) return;
        std::memcpy(prepare(bytes.size()).data(), bytes.data(), bytes.size());
        tail_ += bytes.size();
    }
    // Room for at least `n` bytes at the back, to be filled and then commit()ed.
    std::span<std::byte> prepare(std::size_t n) {
        if (capacity_ - tail_ < n) make_room(n);
        return {reinterpret_cast<std::byte*>(data_.get() + tail_), capacity_ - tail_};
    }
    void commit(std::size_t n) noexcept { tail_ += n; }
    // The room already there at the back (nothing moved or allocated), to be filled and
    // then commit()ed.
    [[nodiscard]] std::span<std::byte> spare() noexcept { return {reinterpret_cast<std::byte*>(data_.get() + tail_), capacity_ - tail_}; }

    // Takes the first `n` bytes (n <= size()) out as a string.
    std::string take(std::size_t n) {
        std::string out(data_.get() + head_, n);
        consume(n);
        return out;
    }
    void consume(std::size_t n) noexcept {
        ++consumes_;
        head_ += n;
        if (head_ == tail_) head_ = tail_ = 0;
    }
    void clear() noexcept {
        ++consumes_;
        head_ = tail_ = 0;
    }

    static constexpr std::size_t min_capacity = 256;

private:
    void make_room(std::size_t n) {
        const std::size_t live = size();
        if (head_ > 0 && live + n <= capacity_ && head_ >= live) {
            // It fits once the read bytes are gone, and moving costs no more than the bytes
            // already consumed: amortized O(1) per byte.
            std::memmove(data_.get(), data_.get() + head_, live);
        } else {
            // Small at first (a connection that only ever sees short messages keeps a small
            // buffer), doubling after: amortized O(1) per byte appended.
            std::size_t grown = std::max<std::size_t>(capacity_ * 2, min_capacity);
            while (grown < live + n) grown *= 2;
            Storage fresh(static_cast<char*>(::operator new (grown, std::align_val_t{alignment})));
            if (live) std::memcpy(fresh.get(), data_.get() + head_, live);
            data_ = std::move(fresh);
            capacity_ = grown;
        }
        head_ = 0;
        tail_ = live;
    }

    // 64-byte aligned: a socket read straight into an empty buffer lands aligned, which
    // the kernel's copy needs to run at full speed (src/stream_transport.cpp).
    static constexpr std::size_t alignment = 64;
    struct Free {
        void operator()(char* p) const noexcept { ::operator delete (p, std::align_val_t{alignment}); }
    };
    using Storage = std::unique_ptr<char, Free>;

    Storage data_;
    std::size_t capacity_ = 0;
    std::size_t head_ = 0;
    std::size_t tail_ = 0;
    std::uint64_t consumes_ = 0;
};

}  // namespace asyncio::detail
