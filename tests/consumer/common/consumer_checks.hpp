// tests/consumer/common/consumer_checks.hpp: the consumer programs' checks: one printed
// line per check, a non-zero exit code if any failed.
#pragma once

#include <iostream>
#include <string>

namespace consumer {

class Checks {
public:
    template <class T>
    void expect_eq(const std::string& what, const T& got, const T& want) {
        if (got == want) {
            std::cout << "ok     " << what << ": " << got << '\n';
        } else {
            std::cout << "FAILED " << what << ": got " << got << ", want " << want << '\n';
            failed_ = true;
        }
    }
    [[nodiscard]] int exit_code() const { return failed_ ? 1 : 0; }

private:
    bool failed_ = false;
};

}  // namespace consumer
