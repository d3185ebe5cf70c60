// The one Catch2 main for every unit test; compiled once into a static
// library because catch.hpp's implementation takes long to build.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
