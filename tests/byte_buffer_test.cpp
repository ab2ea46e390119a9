// The stream buffer (asyncio/detail/byte_buffer.hpp) against a std::string model: appends
// of every size, receives into the free room (prepare/commit, spare), takes of all or part,
// consumes and clears, in a seeded random order; the bytes move down and the allocation
// grows underneath.
#include <asyncio/detail/byte_buffer.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>

using asyncio::detail::ByteBuffer;

namespace {

// Bytes that differ from one call to the next (a random salt), so that a misplaced or
// repeated run of them shows.
std::string bytes_of(std::mt19937& rng, std::size_t n) {
    std::string s(n, '\0');
    const std::uint32_t salt = rng();
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + salt) & 0xff);
    return s;
}

std::size_t some_size(std::mt19937& rng) {
    switch (rng() % 4) {
        case 0:
            return rng() % 64;
        case 1:
            return rng() % 4096;
        case 2:
            return 16384 + rng() % 16;
        default:
            return rng() % (std::size_t{64} * 1024 + 4096);
    }
}

}  // namespace

TEST(ByteBuffer, MatchesAStringModel) {
    for (std::uint32_t seed : {1U, 2U, 3U, 42U}) {
        std::mt19937 rng(seed);
        ByteBuffer b;
        std::string model;
        std::uint64_t consumes = 0;
        for (int step = 0; step < 3000; ++step) {
            // Past 256 KiB, only takes and consumes: the buffer drains (and the model's
            // comparisons stay cheap).
            const unsigned op = model.size() > std::size_t{256} * 1024 ? 4 + rng() % 2 : rng() % 7;
            switch (op) {
                case 0:
                case 1: {
                    const std::string s = bytes_of(rng, some_size(rng));
                    b.append(s);
                    model += s;
                    break;
                }
                case 2: {  // a receive into the room prepare() makes
                    const std::size_t n = some_size(rng);
                    auto room = b.prepare(n);
                    ASSERT_GE(room.size(), n);
                    const std::string s = bytes_of(rng, n);
                    std::memcpy(room.data(), s.data(), n);
                    b.commit(n);
                    model += s;
                    break;
                }
                case 3: {  // a receive into the room already there, if any
                    auto room = b.spare();
                    const std::size_t n = room.empty() ? 0 : rng() % (room.size() + 1);
                    const std::string s = bytes_of(rng, n);
                    if (n) std::memcpy(room.data(), s.data(), n);
                    b.commit(n);
                    model += s;
                    break;
                }
                case 4: {  // read(n): all, or part
                    const std::size_t n = rng() % 2 ? model.size() : rng() % (model.size() + 1);
                    EXPECT_EQ(b.take(n), model.substr(0, n));
                    model.erase(0, n);
                    ++consumes;
                    break;
                }
                case 5: {
                    const std::size_t n = rng() % (model.size() + 1);
                    b.consume(n);
                    model.erase(0, n);
                    ++consumes;
                    break;
                }
                default:
                    if (rng() % 8 == 0) {
                        b.clear();
                        model.clear();
                        ++consumes;
                    }
            }
            ASSERT_EQ(b.size(), model.size()) << "seed " << seed << " step " << step;
            ASSERT_EQ(b.empty(), model.empty());
            ASSERT_EQ(b.view(), model) << "seed " << seed << " step " << step;
            ASSERT_EQ(b.consumes(), consumes);
        }
    }
}
