// keel::Error and the SDK's KEEL_E* come from one table (abi/keel.toml):
// the same names, numbers and descriptions, and the kernel header copes
// with the C library's errno macros included before it.
#include <errno.h>

#include <catch2/catch.hpp>
#include <keel/keel.h>

#include <string>

#include "lib/base/errno.h"

using keel::Error;

TEST_CASE("keel::Error and keel.h agree on every errno")
{
    size_t count = 0;
#define CHECK_ONE_ERRNO(name, number, description)                                                                     \
    CHECK(static_cast<int>(Error::name) == (number));                                                                  \
    CHECK(static_cast<int>(Error::name) == KEEL_##name);                                                               \
    CHECK(std::string(keel::error_name(Error::name)) == #name);                                                        \
    CHECK(std::string(keel::error_description(Error::name)) == (description));                                         \
    count++;
    KEEL_ERRNO_TABLE(CHECK_ONE_ERRNO)
#undef CHECK_ONE_ERRNO
    CHECK(count >= 44);
}

TEST_CASE("the numbers are Linux's")
{
    CHECK(static_cast<int>(Error::EPERM) == 1);
    CHECK(static_cast<int>(Error::ENOMEM) == 12);
    CHECK(static_cast<int>(Error::EINVAL) == 22);
    CHECK(static_cast<int>(Error::ENOSYS) == 38);
    CHECK(static_cast<int>(Error::EKEYREJECTED) == 129);
    CHECK(KEEL_EINVAL == 22);
}

TEST_CASE("a code without a name")
{
    CHECK(std::string(keel::error_name(Error(10))) == "E?");
    CHECK(std::string(keel::error_description(Error(4000))) == "Unknown error");
}
