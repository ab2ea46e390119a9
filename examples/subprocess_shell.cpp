// examples/subprocess_shell.cpp: CPython's documentation subprocess example
// (docs.python.org/3/library/asyncio-subprocess.html): shell commands run at once with
// gather, each one's exit code, stdout and stderr printed. CTest checks the output
// (examples.subprocess_shell); CPython prints the same for the same program.
//
// Python:
//     async def run(cmd):
//         proc = await asyncio.create_subprocess_shell(
//             cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
//         stdout, stderr = await proc.communicate()
//         print(f'[{cmd!r} exited with {proc.returncode}]')
//         if stdout:
//             print(f'[stdout]\n{stdout.decode()}')
//         if stderr:
//             print(f'[stderr]\n{stderr.decode()}')
//
//     async def main():
//         await asyncio.gather(run('ls /zzz'), run('sleep 0.2; echo hello'))
//
//     asyncio.run(main())
#include <asyncio.hpp>

#include <iostream>
#include <string>

asyncio::Coro<void> run(std::string cmd) {
    asyncio::SubprocessOptions options;
    options.std_out = asyncio::subprocess::PIPE;
    options.std_err = asyncio::subprocess::PIPE;
    asyncio::Process proc = co_await asyncio::create_subprocess_shell(cmd, options);
    auto [out, err] = co_await proc.communicate();
    std::cout << "['" << cmd << "' exited with " << *proc.returncode() << "]\n";
    if (out && !out->empty()) std::cout << "[stdout]\n"
                                        << *out << "\n";
    if (err && !err->empty()) std::cout << "[stderr]\n"
                                        << *err << "\n";
}

asyncio::Coro<void> amain() { co_await asyncio::gather(run("ls /zzz"), run("sleep 0.2; echo hello")); }

int main() { asyncio::run(amain()); }
