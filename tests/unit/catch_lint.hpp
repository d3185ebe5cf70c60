// What clang-tidy sees of Catch2 in the unit tests (scripts/lint puts it in
// front of every file under tests/unit/ in place of the precompiled
// catch.hpp; the tests themselves are built with Catch2). The checks walk
// every declaration a file brings in, and Catch2's were most of a fresh
// lint's time, in every test file again, for no finding of ours: here each
// macro keeps the test's own code (its expressions, its bodies) and drops
// Catch2's machinery. catch.hpp's include guard makes its #include a no-op.
// Only what the tests use is here; a file using more fails the lint with a
// compile error naming it.
#pragma once

#define TWOBLUECUBES_SINGLE_INCLUDE_CATCH_HPP_INCLUDED

// The standard headers Catch2 brings in that tests rely on; before any of
// the project's, as with Catch2 (lib/base/errno.h takes the C library's
// errno macros away, and libstdc++'s <memory> needs them).
#include <algorithm>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

namespace Catch {

// CHECK_THAT's matcher: it is built, as in the test, and not run.
struct Contains {
    explicit Contains(const std::string&) { }
};

// GENERATE: the test sees its first value.
template<typename T, typename... Rest> T keel_lint_first(T first, Rest&&...) { return first; }

} // namespace Catch

#define KEEL_LINT_JOIN2(a, b) a##b
#define KEEL_LINT_JOIN(a, b) KEEL_LINT_JOIN2(a, b)

#define TEST_CASE(...) [[maybe_unused]] static void KEEL_LINT_JOIN(keel_lint_test_, __LINE__)()
#define TEST_CASE_METHOD(fixture, ...)                                                                                 \
    namespace {                                                                                                        \
    struct KEEL_LINT_JOIN(KeelLintFixture, __LINE__)                                                                   \
        : fixture {                                                                                                    \
        void test();                                                                                                   \
    };                                                                                                                 \
    }                                                                                                                  \
    void KEEL_LINT_JOIN(KeelLintFixture, __LINE__)::test()
#define SECTION(...) if (true)

#define CHECK(...) static_cast<void>(__VA_ARGS__)
#define REQUIRE(...) static_cast<void>(__VA_ARGS__)
#define CHECK_FALSE(...) static_cast<void>(!(__VA_ARGS__))
#define REQUIRE_FALSE(...) static_cast<void>(!(__VA_ARGS__))
#define STATIC_REQUIRE(...) static_assert(__VA_ARGS__)
#define CHECK_THAT(value, matcher) (static_cast<void>(value), static_cast<void>(matcher))

#define INFO(...) static_cast<void>(std::ostringstream() << __VA_ARGS__)
#define UNSCOPED_INFO(...) INFO(__VA_ARGS__)
#define WARN(...) INFO(__VA_ARGS__)
#define FAIL(...) INFO(__VA_ARGS__)

#define GENERATE(...) Catch::keel_lint_first(__VA_ARGS__)
#define GENERATE_REF(...) Catch::keel_lint_first(__VA_ARGS__)
