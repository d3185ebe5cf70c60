// The kernel's string functions (core/lib/base/string.cpp), built here under
// other names beside libc's and checked against libc's: every length and
// alignment, and strings that end at the last byte before an unmapped page
// (the word-at-a-time loops must not read into it).
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <random>
#include <vector>

extern "C" {
int kernel_memcmp(const void* a, const void* b, size_t n);
void* kernel_memchr(const void* s, int c, size_t n);
size_t kernel_strlen(const char* s);
size_t kernel_strnlen(const char* s, size_t max);
int kernel_strcmp(const char* a, const char* b);
int kernel_strncmp(const char* a, const char* b, size_t n);
char* kernel_strchr(const char* s, int c);
}

namespace {

int sign(int value) { return (value > 0) - (value < 0); }

// A page whose successor is unmapped: bytes placed at its end are followed
// by a fault.
class GuardedPage {
public:
    GuardedPage()
    {
        m_size = size_t(sysconf(_SC_PAGESIZE));
        void* map = mmap(nullptr, 2 * m_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        REQUIRE(map != MAP_FAILED);
        m_base = static_cast<char*>(map);
        REQUIRE(mprotect(m_base + m_size, m_size, PROT_NONE) == 0);
    }
    ~GuardedPage() { munmap(m_base, 2 * m_size); }
    // `length` bytes ending at the page's last byte.
    char* tail(size_t length) { return m_base + m_size - length; }

private:
    char* m_base;
    size_t m_size;
};

} // namespace

TEST_CASE("memcmp agrees with libc at every length, alignment and first difference")
{
    std::mt19937 random(1);
    std::vector<unsigned char> a(160), b(160);
    for (size_t offset = 0; offset < 8; ++offset) {
        for (size_t length = 0; length <= 100; ++length) {
            for (auto& byte : a)
                byte = static_cast<unsigned char>(random());
            b = a;
            CHECK(kernel_memcmp(a.data() + offset, b.data() + offset, length) == 0);
            for (size_t at = 0; at < length; ++at) {
                b[offset + at] = static_cast<unsigned char>(a[offset + at] + 1 + random() % 255);
                CHECK(sign(kernel_memcmp(a.data() + offset, b.data() + offset, length))
                    == sign(memcmp(a.data() + offset, b.data() + offset, length)));
                b[offset + at] = a[offset + at];
            }
        }
    }
    // The first difference decides, not a later one in the same word.
    const unsigned char x[8] = { 1, 2, 0xff, 0, 0, 0, 0, 0 }, y[8] = { 1, 3, 0, 0, 0, 0, 0, 0 };
    CHECK(kernel_memcmp(x, y, 8) < 0);
    CHECK(kernel_memcmp(y, x, 8) > 0);
}

TEST_CASE("memchr finds the first occurrence at every length, alignment and position")
{
    std::vector<unsigned char> buffer(160);
    for (size_t offset = 0; offset < 8; ++offset) {
        for (size_t length = 0; length <= 80; ++length) {
            for (size_t i = 0; i < buffer.size(); ++i)
                buffer[i] = static_cast<unsigned char>(0x80 | i); // never 'K' (0x4b) nor 0
            const unsigned char* s = buffer.data() + offset;
            CHECK(kernel_memchr(s, 'K', length) == nullptr);
            for (size_t at = 0; at < length; ++at) {
                buffer[offset + at] = 'K';
                if (at + 3 < length)
                    buffer[offset + at + 3] = 'K'; // a later one must not win
                CHECK(kernel_memchr(s, 'K', length) == s + at);
                CHECK(kernel_memchr(s, 'K' + 256, length) == s + at); // c is converted to unsigned char
                buffer[offset + at] = static_cast<unsigned char>(0x80 | (offset + at));
                if (at + 3 < length)
                    buffer[offset + at + 3] = static_cast<unsigned char>(0x80 | (offset + at + 3));
            }
            // A match just past the length is not found.
            buffer[offset + length] = 'K';
            CHECK(kernel_memchr(s, 'K', length) == nullptr);
        }
    }
    const unsigned char zeros[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 0 };
    CHECK(kernel_memchr(zeros, 0, 9) == zeros + 8);
}

TEST_CASE("strlen and strnlen agree with libc at every length and alignment")
{
    std::vector<char> buffer(256);
    for (size_t offset = 0; offset < 8; ++offset) {
        for (size_t length = 0; length <= 80; ++length) {
            for (size_t i = 0; i < buffer.size(); ++i)
                buffer[i] = char(0x80 | (i * 7)); // high bits set: the hardest case for the zero test
            buffer[offset + length] = '\0';
            const char* s = buffer.data() + offset;
            CHECK(kernel_strlen(s) == length);
            for (size_t max = 0; max <= length + 10; ++max)
                CHECK(kernel_strnlen(s, max) == strnlen(s, max));
        }
    }
}

TEST_CASE("strlen and strnlen stop at a string that ends before an unmapped page")
{
    GuardedPage page;
    for (size_t length = 0; length <= 40; ++length) {
        char* s = page.tail(length + 1);
        memset(s, 'k', length);
        s[length] = '\0';
        CHECK(kernel_strlen(s) == length);
        CHECK(kernel_strnlen(s, length + 1) == length);
        CHECK(kernel_strnlen(s, length) == length);
        // Without a NUL: strnlen must stop at max, at the page's end.
        char* unterminated = page.tail(length);
        memset(unterminated, 'k', length);
        CHECK(kernel_strnlen(unterminated, length) == length);
        CHECK(kernel_memchr(unterminated, 'x', length) == nullptr);
        CHECK(kernel_memcmp(unterminated, unterminated, length) == 0);
    }
}

TEST_CASE("strcmp, strncmp and strchr agree with libc")
{
    const char* words[] = { "", "a", "ab", "abc", "abd", "b", "keel_param_x", "keel_param_y", "\xff" };
    for (const char* a : words) {
        for (const char* b : words) {
            CHECK(sign(kernel_strcmp(a, b)) == sign(strcmp(a, b)));
            for (size_t n = 0; n < 6; ++n)
                CHECK(sign(kernel_strncmp(a, b, n)) == sign(strncmp(a, b, n)));
        }
        CHECK(kernel_strchr(a, 'b') == strchr(a, 'b'));
        CHECK(kernel_strchr(a, '\0') == a + strlen(a));
    }
}
