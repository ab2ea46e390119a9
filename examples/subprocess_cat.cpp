// examples/subprocess_cat.cpp: data piped through `cat` with communicate(): 8 MiB in on its
// stdin while its stdout is read back, both at once, so neither pipe's 64 KiB fills and
// stalls the other. CTest checks the output (examples.subprocess_cat).
//
// Python:
//     proc = await asyncio.create_subprocess_exec('cat', stdin=PIPE, stdout=PIPE)
//     out, _ = await proc.communicate(data)
#include <asyncio.hpp>

#include <iostream>
#include <string>
#include <vector>

asyncio::Coro<void> amain() {
    std::string data;
    for (int i = 0; data.size() < (std::size_t{8} << 20); ++i) data += "line " + std::to_string(i) + "\n";
    asyncio::SubprocessOptions options;
    options.std_in = asyncio::subprocess::PIPE;
    options.std_out = asyncio::subprocess::PIPE;
    const std::vector<std::string> no_args;
    asyncio::Process proc = co_await asyncio::create_subprocess_exec("cat", no_args, options);
    std::optional<std::string> input(data);
    auto [out, err] = co_await proc.communicate(std::move(input));
    std::cout << "cat exited with " << *proc.returncode() << "\n";
    std::cout << "sent " << data.size() << " bytes, got " << out->size() << " back, " << (*out == data ? "identical" : "DIFFERENT") << "\n";
}

int main() { asyncio::run(amain()); }
