// core/lib/http on hostile bytes: the first byte picks the parser. The
// oracle: nothing reads out of bounds (ASan), a parsed head's length lies
// within the input, a parsed path is NUL-terminated within its array and
// holds no NUL or escaped '/', and a URL's path starts with '/'.
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vector>

#include "lib/base/assert.h"
#include "lib/http/http.h"

using namespace keel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    if (size == 0)
        return 0;
    const uint8_t* bytes = data + 1;
    size_t length = size - 1;
    // A copy of exactly the input's size, so that ASan sees any overread.
    std::vector<uint8_t> input(bytes, bytes + length);
    Diagnostic diagnostic;
    switch (data[0] % 3) {
    case 0: {
        auto response = http::parse_response(input.data(), input.size(), diagnostic);
        if (!response.is_error()) {
            VERIFY(response.value().head_length <= input.size());
            VERIFY(memchr(response.value().reason, 0, sizeof(response.value().reason)));
        } else {
            VERIFY(!diagnostic.empty());
        }
        break;
    }
    case 1: {
        auto end = http::find_head_end(input.data(), input.size());
        if (!end.is_error() && end.value() > 0) {
            VERIFY(end.value() <= input.size());
            auto request = http::parse_request(input.data(), end.value(), diagnostic);
            if (!request.is_error()) {
                const char* path = request.value().path;
                size_t path_length = strnlen(path, sizeof(request.value().path));
                VERIFY(path_length < sizeof(request.value().path));
                VERIFY(path[0] == '/');
                (void)http::path_is_safe(path);
            }
        }
        break;
    }
    case 2: {
        std::vector<char> text(input.begin(), input.end());
        text.push_back(0);
        auto url = http::parse_url(text.data(), diagnostic);
        if (!url.is_error()) {
            VERIFY(url.value().path[0] == '/');
            VERIFY(url.value().port != 0);
            (void)http::url_file_name(url.value());
        }
        break;
    }
    }
    return 0;
}
