// diagnose() without the formatter (core/lib/base/diagnostic_unformatted.cpp):
// the message is the format string, truncated to the buffer, and a null
// diagnostic is ignored.
#include <catch2/catch.hpp>
#include <string>

#include "lib/base/diagnostic.h"

using keel::diagnose;
using keel::Diagnostic;

TEST_CASE("unformatted diagnose keeps the format string")
{
    Diagnostic diagnostic;
    diagnose(&diagnostic, "icmp: bad checksum %#06x", 0x1234u);
    CHECK(std::string(diagnostic.message) == "icmp: bad checksum %#06x");
    diagnose(&diagnostic, "arp: operation %u", 7u);
    CHECK(std::string(diagnostic.message) == "arp: operation %u");
    diagnose(nullptr, "nothing to write to %s", "x");
}

#define TEN "0123456789"
#define HUNDRED TEN TEN TEN TEN TEN TEN TEN TEN TEN TEN

TEST_CASE("unformatted diagnose truncates a long message")
{
    static_assert(Diagnostic::kCapacity < 400);
    Diagnostic diagnostic;
    diagnose(&diagnostic, HUNDRED HUNDRED HUNDRED HUNDRED);
    std::string expected = HUNDRED HUNDRED HUNDRED HUNDRED;
    CHECK(std::string(diagnostic.message) == expected.substr(0, Diagnostic::kCapacity - 1));
}
