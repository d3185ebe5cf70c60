#include "lib/base/errno.h"

namespace keel {

const char* error_name(Error error)
{
    switch (error) {
#define KEEL_ERROR_NAME(name, description)                                                                             \
    case Error::name: return #name;
        KEEL_ERROR_TABLE(KEEL_ERROR_NAME)
#undef KEEL_ERROR_NAME
    }
    return "E?";
}

const char* error_description(Error error)
{
    switch (error) {
#define KEEL_ERROR_DESCRIPTION(name, description)                                                                      \
    case Error::name: return description;
        KEEL_ERROR_TABLE(KEEL_ERROR_DESCRIPTION)
#undef KEEL_ERROR_DESCRIPTION
    }
    return "Unknown error";
}

} // namespace keel
