#include "lib/http/http.h"

#include "lib/base/string.h"
#include "lib/base/utility.h"
#include "lib/cmdline/cmdline.h"

namespace keel::http {

namespace {

bool starts_with(const char* text, const char* prefix) { return strncmp(text, prefix, strlen(prefix)) == 0; }

uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? uint8_t(c - 'A' + 'a') : c; }

bool equal_ignoring_case(const uint8_t* a, size_t length, const char* b)
{
    if (strlen(b) != length)
        return false;
    for (size_t i = 0; i < length; i++) {
        if (lower(a[i]) != lower(uint8_t(b[i])))
            return false;
    }
    return true;
}

// The line at bytes[0..length): its length without the end of line, and
// where the next starts. False when no end of line is there.
bool next_line(const uint8_t* bytes, size_t length, size_t* line_length, size_t* next)
{
    for (size_t i = 0; i < length; i++) {
        if (bytes[i] == '\n') {
            *line_length = i > 0 && bytes[i - 1] == '\r' ? i - 1 : i;
            *next = i + 1;
            return true;
        }
    }
    return false;
}

// "HTTP/1.x": the minor version, or -1.
int parse_version(const uint8_t* text, size_t length)
{
    if (length != 8 || memcmp(text, "HTTP/1.", 7) != 0 || text[7] < '0' || text[7] > '9')
        return -1;
    return text[7] - '0';
}

bool all_digits(const uint8_t* text, size_t length)
{
    if (length == 0)
        return false;
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
    }
    return true;
}

// Four decimal numbers of 0 to 255 separated by dots, no leading zeros.
bool parse_ipv4(const char* text, uint32_t* out)
{
    uint32_t address = 0;
    for (int part = 0; part < 4; part++) {
        const char* start = text;
        uint32_t value = 0;
        while (*text >= '0' && *text <= '9' && text - start < 3)
            value = value * 10 + uint32_t(*text++ - '0');
        size_t digits = size_t(text - start);
        if (digits == 0 || value > 255 || (digits > 1 && start[0] == '0'))
            return false;
        address = address << 8 | value;
        if (part < 3 && *text++ != '.')
            return false;
    }
    *out = address;
    return *text == 0;
}

} // namespace

Result<Url> parse_url(const char* text, Diagnostic& diagnostic)
{
    Url url;
    if (!starts_with(text, "http://"))
        return diagnostic.fail(Error::EINVAL, "only http:// URLs are supported");
    const char* host = text + 7;
    const char* host_end = host;
    while (*host_end && *host_end != ':' && *host_end != '/')
        host_end++;
    char host_text[16];
    size_t host_length = size_t(host_end - host);
    if (host_length == 0 || host_length >= sizeof(host_text))
        return diagnostic.fail(Error::EINVAL, "the host must be an IPv4 address (there is no name resolution)");
    memcpy(host_text, host, host_length);
    host_text[host_length] = 0;
    if (!parse_ipv4(host_text, &url.address))
        return diagnostic.fail(
            Error::EINVAL, "unable to resolve host address '%s' (there is no name resolution)", host_text);
    const char* rest = host_end;
    if (*rest == ':') {
        const char* port = rest + 1;
        const char* port_end = port;
        while (*port_end && *port_end != '/')
            port_end++;
        auto value = parse_uint(port, size_t(port_end - port));
        if (port_end == port || value.is_error() || value.value() == 0 || value.value() > 65535)
            return diagnostic.fail(Error::EINVAL, "bad port");
        url.port = uint16_t(value.value());
        rest = port_end;
    }
    const char* path = *rest ? rest : "/";
    size_t path_length = strlen(path);
    if (path_length > kMaxPath)
        return diagnostic.fail(Error::EINVAL, "the path is longer than %zu bytes", kMaxPath);
    for (size_t i = 0; i < path_length; i++) {
        if (uint8_t(path[i]) <= ' ' || uint8_t(path[i]) >= 0x7f)
            return diagnostic.fail(Error::EINVAL, "the path holds a space or a control character");
    }
    memcpy(url.path, path, path_length + 1);
    return url;
}

const char* url_file_name(const Url& url)
{
    const char* name = url.path;
    for (const char* c = url.path; *c; c++) {
        if (*c == '/')
            name = c + 1;
    }
    return *name ? name : "index.html";
}

Result<size_t> find_head_end(const uint8_t* bytes, size_t length)
{
    size_t limit = length < kMaxHead ? length : kMaxHead;
    size_t position = 0;
    bool first = true;
    for (;;) {
        size_t line_length, next;
        if (!next_line(bytes + position, limit - position, &line_length, &next))
            break;
        // HTTP/0.9: a request line without a version ends the request.
        if (first && line_length >= 4 && memcmp(bytes, "GET ", 4) == 0) {
            bool has_version = false;
            for (size_t i = 4; i < line_length; i++)
                has_version |= bytes[i] == ' ';
            if (!has_version)
                return position + next;
        }
        first = false;
        position += next;
        if (line_length == 0)
            return position;
    }
    if (length >= kMaxHead)
        return Err(Error::EMSGSIZE);
    return size_t(0);
}

Result<Request> parse_request(const uint8_t* head, size_t length, Diagnostic& diagnostic)
{
    Request request;
    size_t line_length, next;
    if (!next_line(head, length, &line_length, &next))
        return diagnostic.fail(Error::EINVAL, "no request line");
    const uint8_t* line = head;
    size_t method_end = 0;
    while (method_end < line_length && line[method_end] != ' ')
        method_end++;
    if (method_end == 0 || method_end == line_length)
        return diagnostic.fail(Error::EINVAL, "malformed request line");
    if (method_end == 3 && memcmp(line, "GET", 3) == 0)
        request.method = Method::Get;
    else if (method_end == 4 && memcmp(line, "HEAD", 4) == 0)
        request.method = Method::Head;
    for (size_t i = 0; i < method_end; i++) {
        if (line[i] < 'A' || line[i] > 'Z')
            return diagnostic.fail(Error::EINVAL, "malformed method");
    }
    size_t target = method_end + 1;
    size_t target_end = target;
    while (target_end < line_length && line[target_end] != ' ')
        target_end++;
    if (target_end == line_length) {
        request.minor = 9;
        if (request.method != Method::Get)
            return diagnostic.fail(Error::EINVAL, "an HTTP/0.9 request is a GET");
    } else {
        int minor = parse_version(line + target_end + 1, line_length - target_end - 1);
        if (minor < 0)
            return diagnostic.fail(Error::EINVAL, "malformed version");
        if (minor > 1)
            return diagnostic.fail(Error::ENOTSUP, "version HTTP/1.%d is not supported", minor);
        request.minor = uint8_t(minor);
    }
    if (target == target_end || line[target] != '/')
        return diagnostic.fail(Error::EINVAL, "the path must start with '/'");
    size_t out = 0;
    for (size_t i = target; i < target_end; i++) {
        uint8_t c = line[i];
        if (c == '?' || c == '#')
            break; // the query is not a file's
        if (c < ' ' || c >= 0x7f)
            return diagnostic.fail(Error::EINVAL, "a control character in the path");
        if (c == '%') {
            int high = i + 2 < target_end ? hex_digit_value(line[i + 1]) : -1;
            int low = i + 2 < target_end ? hex_digit_value(line[i + 2]) : -1;
            if (high < 0 || low < 0)
                return diagnostic.fail(Error::EINVAL, "a bad %%-escape in the path");
            c = uint8_t(high << 4 | low);
            if (c == 0 || c == '/')
                return diagnostic.fail(Error::EINVAL, "an escaped NUL or '/' in the path");
            i += 2;
        }
        if (out == kMaxPath)
            return diagnostic.fail(Error::EINVAL, "the path is longer than %zu bytes", kMaxPath);
        request.path[out++] = char(c);
    }
    request.path[out] = 0;
    return request;
}

bool path_is_safe(const char* path)
{
    if (path[0] != '/')
        return false;
    const char* segment = path + 1;
    while (*segment) {
        const char* end = segment;
        while (*end && *end != '/')
            end++;
        size_t length = size_t(end - segment);
        if (length == 0 && *end == '/')
            return false; // "//"
        if ((length == 1 && segment[0] == '.') || (length == 2 && segment[0] == '.' && segment[1] == '.'))
            return false;
        segment = *end ? end + 1 : end;
    }
    return true;
}

Result<Response> parse_response(const uint8_t* bytes, size_t length, Diagnostic& diagnostic)
{
    Response response;
    auto end = find_head_end(bytes, length);
    if (end.is_error())
        return diagnostic.fail(Error::EMSGSIZE, "the response head is longer than %zu bytes", kMaxHead);
    size_t head_length = end.value();
    if (head_length == 0)
        return response; // more is needed
    size_t line_length, next;
    next_line(bytes, head_length, &line_length, &next);
    // "HTTP/1.x NNN Reason"
    if (line_length < 12 || bytes[8] != ' ' || (line_length > 12 && bytes[12] != ' '))
        return diagnostic.fail(Error::EINVAL, "malformed status line");
    int minor = parse_version(bytes, 8);
    if (minor < 0 || !all_digits(bytes + 9, 3))
        return diagnostic.fail(Error::EINVAL, "malformed status line");
    response.minor = uint8_t(minor);
    response.status = uint16_t((bytes[9] - '0') * 100 + (bytes[10] - '0') * 10 + (bytes[11] - '0'));
    if (response.status < 100)
        return diagnostic.fail(Error::EINVAL, "status %u is not a status", response.status);
    if (line_length > 13) {
        size_t reason_length = line_length - 13;
        if (reason_length >= sizeof(response.reason))
            reason_length = sizeof(response.reason) - 1;
        for (size_t i = 0; i < reason_length; i++) {
            uint8_t c = bytes[13 + i];
            response.reason[i] = c >= ' ' && c < 0x7f ? char(c) : '?';
        }
    }
    size_t position = next;
    while (position < head_length) {
        next_line(bytes + position, head_length - position, &line_length, &next);
        const uint8_t* line = bytes + position;
        position += next;
        if (line_length == 0)
            break;
        size_t colon = 0;
        while (colon < line_length && line[colon] != ':')
            colon++;
        if (colon == 0 || colon == line_length)
            return diagnostic.fail(Error::EINVAL, "malformed header line");
        for (size_t i = 0; i < colon; i++) {
            if (line[i] <= ' ' || line[i] >= 0x7f)
                return diagnostic.fail(Error::EINVAL, "malformed header name");
        }
        if (!equal_ignoring_case(line, colon, "content-length"))
            continue;
        size_t value = colon + 1, value_end = line_length;
        while (value < value_end && (line[value] == ' ' || line[value] == '\t'))
            value++;
        while (value_end > value && (line[value_end - 1] == ' ' || line[value_end - 1] == '\t'))
            value_end--;
        if (!all_digits(line + value, value_end - value) || value_end - value > 15)
            return diagnostic.fail(Error::EINVAL, "bad Content-Length");
        uint64_t content_length = 0;
        for (size_t i = value; i < value_end; i++)
            content_length = content_length * 10 + uint64_t(line[i] - '0');
        if (response.has_length && response.content_length != content_length)
            return diagnostic.fail(Error::EINVAL, "two different Content-Length headers");
        response.has_length = true;
        response.content_length = content_length;
    }
    response.head_length = head_length;
    return response;
}

const char* reason_phrase(uint16_t status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 505: return "HTTP Version Not Supported";
    }
    return "";
}

} // namespace keel::http
