// HTTP/1.0 as the console's wget and httpd speak it (RFC 1945, with what
// RFC 9112 says of message framing): URLs of the form
// http://A.B.C.D[:PORT]/PATH, request lines, response heads and request
// paths made safe to serve. Every byte is the network's, so every parser
// is bounded and says what it refused. No allocation, no clock.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/diagnostic.h"
#include "lib/base/result.h"

namespace keel::http {

// The most a request line or a response head may take (a longer one is
// refused, as servers refuse with 414 or 431).
constexpr size_t kMaxHead = 8192;
constexpr size_t kMaxPath = 255;

struct Url {
    uint32_t address = 0; // IPv4, host byte order
    uint16_t port = 80;
    char path[kMaxPath + 1] = {}; // begins with '/'
};

// "http://10.0.2.2:8000/file": EINVAL with the reason (another scheme, a
// host name, a bad port, a path too long).
Result<Url> parse_url(const char* text, Diagnostic& diagnostic);

// The last part of the URL's path, as wget names its output ("index.html"
// for a path ending in '/').
const char* url_file_name(const Url& url);

enum class Method : uint8_t { Get, Head, Other };

struct Request {
    Method method = Method::Other;
    char path[kMaxPath + 1] = {}; // decoded (%XX), begins with '/'
    uint8_t minor = 0;            // HTTP/1.minor; 9 for a bare HTTP/0.9 line
};

// Where the request head ends ("\r\n\r\n" or "\n\n", and a bare
// "GET /path\r\n" of HTTP/0.9): the length through the blank line, 0 when
// more is needed, EMSGSIZE past kMaxHead.
Result<size_t> find_head_end(const uint8_t* bytes, size_t length);

// The request line of a head. EINVAL (400) for a malformed line, a path
// not starting with '/' or too long, a bad escape or an escaped NUL or
// '/'; ENOTSUP (505) for a version other than 0.9, 1.0 and 1.1.
Result<Request> parse_request(const uint8_t* head, size_t length, Diagnostic& diagnostic);

// The path's segments are names a directory holds: no "..", ".", empty
// segment or NUL. A path ending in '/' names a directory.
bool path_is_safe(const char* path);

struct Response {
    uint16_t status = 0;
    uint8_t minor = 0;
    bool has_length = false;
    uint64_t content_length = 0;
    char reason[64] = {};
    size_t head_length = 0; // where the body starts
};

// The response head at the start of `bytes`: 0-length head_length (and
// no error) when more bytes are needed; EINVAL for a malformed status
// line or header, a second, different or bad Content-Length; EMSGSIZE
// past kMaxHead.
Result<Response> parse_response(const uint8_t* bytes, size_t length, Diagnostic& diagnostic);

// "Not Found" for 404, ..., "" for a code without a phrase here.
const char* reason_phrase(uint16_t status);

} // namespace keel::http
