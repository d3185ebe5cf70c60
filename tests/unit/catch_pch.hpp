// What tests/unit/meson.build precompiles for every test file.
#include <catch2/catch.hpp>
