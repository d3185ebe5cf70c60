#include <catch2/catch.hpp>

#include <stdint.h>
#include <stdio.h>

#include <random>
#include <string>

#include "lib/base/diagnostic.h"
#include "lib/base/format.h"

using keel::format;

namespace {

// Formats with keel::format and with the C library, for formats whose
// output the C standard defines.
template<typename... Args> void check_like_printf(const char* fmt, Args... args)
{
    char ours[256];
    char theirs[256];
    size_t our_length = format(ours, sizeof(ours), fmt, args...);
    int their_length = snprintf(theirs, sizeof(theirs), fmt, args...);
    INFO("format: \"" << fmt << "\"");
    CHECK(std::string(ours) == std::string(theirs));
    CHECK(our_length == size_t(their_length));
}

std::string fmt_string(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string fmt_string(const char* fmt, ...)
{
    char buffer[512];
    va_list args;
    va_start(args, fmt);
    size_t length = keel::vformat(buffer, sizeof(buffer), fmt, args);
    va_end(args);
    REQUIRE(length < sizeof(buffer));
    return std::string(buffer, length);
}

// The same without compile-time format checking, for deliberately bad formats.
std::string fmt_unchecked(const char* fmt, ...)
{
    char buffer[512];
    va_list args;
    va_start(args, fmt);
    size_t length = keel::vformat(buffer, sizeof(buffer), fmt, args);
    va_end(args);
    REQUIRE(length < sizeof(buffer));
    return std::string(buffer, length);
}

} // namespace

TEST_CASE("format: plain text and %%", "[format]")
{
    CHECK(fmt_string("hello") == "hello");
    CHECK(fmt_string("") == "");
    CHECK(fmt_string("100%%") == "100%");
    CHECK(fmt_string("%%%d%%", 5) == "%5%");
}

TEST_CASE("format: integers match printf", "[format]")
{
    check_like_printf("%d %i %u", 42, -42, 42u);
    check_like_printf("%d", INT32_MIN);
    check_like_printf("%d", INT32_MAX);
    check_like_printf("%u", UINT32_MAX);
    check_like_printf("%x %X %o", 0xdeadbeefu, 0xdeadbeefu, 0777u);
    check_like_printf("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
    check_like_printf("%ld %lu %lx", (long)INT64_MIN, (unsigned long)UINT64_MAX, (unsigned long)UINT64_MAX);
    check_like_printf("%zu %zx", (size_t)SIZE_MAX, (size_t)0x1234);
    check_like_printf("%jd %ju", (intmax_t)-7, (uintmax_t)7);
    check_like_printf("%td", (ptrdiff_t)-123456789012LL);
    check_like_printf("%hd %hu %hx", 70000, 70000, 0x12345);
    check_like_printf("%hhd %hhu %hhx", 300, 300, 0x1ff);
    check_like_printf("%hhd", -129);
    check_like_printf("%o %#o %#x %#X %#x %#o", 8u, 8u, 255u, 255u, 0u, 0u);
}

TEST_CASE("format: width, flags and precision match printf", "[format]")
{
    check_like_printf("[%5d] [%-5d] [%05d] [%-05d]", 42, 42, 42, 42);
    check_like_printf("[%5d] [%05d] [%5d]", -42, -42, 123456);
    check_like_printf("[%+d] [%+d] [% d] [% d] [%+05d]", 5, -5, 5, -5, 5);
    check_like_printf("[%*d] [%-*d] [%*d]", 6, 7, 6, 7, -6, 7);
    check_like_printf("[%.3d] [%.0d] [%.0d] [%8.3d] [%-8.3d] [%08.3d]", 7, 0, 1, -7, 7, 7);
    check_like_printf("[%#08x] [%#8x] [%-#8x] [%#.4x]", 0xabu, 0xabu, 0xabu, 0xabu);
    check_like_printf("[%.0o] [%#.0o]", 0u, 0u);
    check_like_printf("[%016llx]", 0x1234ULL);
    check_like_printf("[%c] [%3c] [%-3c]", 'a', 'b', 'c');
    check_like_printf("[%s] [%8s] [%-8s] [%.2s] [%8.2s] [%-8.2s]", "abc", "abc", "abc", "abc", "abc", "abc");
    check_like_printf("[%.*s] [%.*s] [%.*s]", 3, "abcdef", 0, "abc", -1, "abc");
    check_like_printf("[%*.*s]", 6, 2, "abcdef");
}

TEST_CASE("format: randomised integers against printf", "[format]")
{
    std::mt19937_64 rng(12345);
    const char* conversions[] = { "d", "u", "x", "X", "o", "i" };
    const char* lengths[] = { "", "l", "ll", "h", "hh", "z" };
    for (int i = 0; i < 4000; ++i) {
        std::string fmt = "%";
        if (rng() % 4 == 0)
            fmt += "-";
        if (rng() % 4 == 0)
            fmt += "0";
        if (rng() % 5 == 0)
            fmt += "+";
        if (rng() % 3 == 0)
            fmt += std::to_string(rng() % 25);
        if (rng() % 4 == 0)
            fmt += "." + std::to_string(rng() % 25);
        const char* length = lengths[rng() % 6];
        const char* conversion = conversions[rng() % 6];
        fmt += length;
        fmt += conversion;
        uint64_t bits = rng();
        if (rng() % 3 == 0)
            bits >>= rng() % 64;
        std::string l(length);
        char ours[128];
        char theirs[128];
        size_t our_length;
        int their_length;
        // The '+' flag only means something for signed conversions; glibc
        // ignores it for unsigned ones just as we do.
        if (l == "l" || l == "z") {
            our_length = format(ours, sizeof(ours), fmt.c_str(), (unsigned long)bits);
            their_length = snprintf(theirs, sizeof(theirs), fmt.c_str(), (unsigned long)bits);
        } else if (l == "ll") {
            our_length = format(ours, sizeof(ours), fmt.c_str(), (unsigned long long)bits);
            their_length = snprintf(theirs, sizeof(theirs), fmt.c_str(), (unsigned long long)bits);
        } else {
            our_length = format(ours, sizeof(ours), fmt.c_str(), (unsigned)bits);
            their_length = snprintf(theirs, sizeof(theirs), fmt.c_str(), (unsigned)bits);
        }
        INFO("format " << fmt << " value " << bits);
        REQUIRE(std::string(ours) == std::string(theirs));
        REQUIRE(our_length == size_t(their_length));
    }
}

TEST_CASE("format: %s null, %p", "[format]")
{
    CHECK(fmt_string("%s", (const char*)nullptr) == "(null)");
    CHECK(fmt_string("%.3s", (const char*)nullptr) == "(nu");
    CHECK(fmt_string("%p", (void*)0x1234) == "0x0000000000001234");
    CHECK(fmt_string("%p", (void*)nullptr) == "0x0000000000000000");
    CHECK(fmt_string("%p", (void*)UINTPTR_MAX) == "0xffffffffffffffff");
    CHECK(fmt_string("[%20p]", (void*)0xabc) == "[  0x0000000000000abc]");
    CHECK(fmt_string("[%-20p]", (void*)0xabc) == "[0x0000000000000abc  ]");
}

TEST_CASE("format: %.Ns reads no further than N bytes", "[format]")
{
    char unterminated[3] = { 'x', 'y', 'z' };
    CHECK(fmt_string("%.3s", unterminated) == "xyz");
    CHECK(fmt_string("%.*s", 2, unterminated) == "xy");
}

TEST_CASE("format: truncation and return value", "[format]")
{
    char buffer[8];
    CHECK(format(buffer, sizeof(buffer), "%s", "0123456789") == 10);
    CHECK(std::string(buffer) == "0123456");

    CHECK(format(buffer, 1, "abc") == 3);
    CHECK(buffer[0] == '\0');

    buffer[0] = 'Q';
    CHECK(format(buffer, 0, "abc%d", 12) == 5);
    CHECK(buffer[0] == 'Q');
    CHECK(format(nullptr, 0, "%d", 123456) == 6);

    CHECK(format(buffer, sizeof(buffer), "%s", "1234567") == 7);
    CHECK(std::string(buffer) == "1234567");

    // Long padding crosses the internal chunk size.
    char big[200];
    CHECK(format(big, sizeof(big), "%100d|", 1) == 101);
    CHECK(std::string(big) == std::string(99, ' ') + "1|");
    CHECK(format(big, 10, "%-100d|", 1) == 101);
    CHECK(std::string(big) == "1        ");
}

TEST_CASE("format: malformed formats are shown, not fatal", "[format]")
{
    CHECK(fmt_unchecked("abc%") == "abc%");
    CHECK(fmt_unchecked("%5") == "%5");
    CHECK(fmt_unchecked("%ll") == "%ll");
    CHECK(fmt_unchecked("[%q]") == "[%q]");
    CHECK(fmt_unchecked("[%-5y] %d", 3) == "[%-5y] 3");
}

namespace {

struct Collector {
    std::string text;
    int pieces = 0;
};

void collect(void* ctx, const char* text, size_t length)
{
    auto* collector = static_cast<Collector*>(ctx);
    collector->text.append(text, length);
    ++collector->pieces;
}

} // namespace

TEST_CASE("format: streaming variant", "[format]")
{
    Collector collector;
    size_t total = keel::format_to(collect, &collector, "pid %d: %s (%x)%c", 12, "init", 255u, '!');
    CHECK(collector.text == "pid 12: init (ff)!");
    CHECK(total == collector.text.size());
    CHECK(collector.pieces > 1);

    // Huge outputs are fine: nothing is buffered.
    Collector big;
    total = keel::format_to(collect, &big, "%5000d", 7);
    CHECK(total == 5000);
    CHECK(big.text.size() == 5000);
    CHECK(big.text.back() == '7');
}

TEST_CASE("format: a diagnostic starts empty and keeps its reason under a prefix", "[format]")
{
    keel::Diagnostic diagnostic;
    CHECK(diagnostic.empty());
    diagnostic.prefix("tmpfs: ");
    CHECK(std::string(diagnostic.message) == "tmpfs: ");
    diagnostic.clear();
    (void)diagnostic.fail(keel::Error::EINVAL, "field %s is %u", "p_offset", 7u);
    diagnostic.prefix("module %s: ", "hello");
    CHECK(std::string(diagnostic.message) == "module hello: field p_offset is 7");
    // A prefix that fills the buffer leaves it NUL-terminated, truncated.
    diagnostic.prefix("%400d", 1);
    CHECK(std::string(diagnostic.message).size() == keel::Diagnostic::kCapacity - 1);
}
