// HTTP/1.0 for wget and httpd: every refusal says why.
#include <string.h>

#include <catch2/catch.hpp>

#include "lib/http/http.h"

using namespace keel;
using namespace keel::http;

namespace {

const uint8_t* bytes(const char* text) { return reinterpret_cast<const uint8_t*>(text); }

Result<Response> response_of(const char* text, Diagnostic& diagnostic)
{
    return parse_response(bytes(text), strlen(text), diagnostic);
}

Result<Request> request_of(const char* text, Diagnostic& diagnostic)
{
    return parse_request(bytes(text), strlen(text), diagnostic);
}

} // namespace

TEST_CASE("http: URLs with an address, a port and a path", "[http]")
{
    Diagnostic diagnostic;
    auto url = parse_url("http://10.0.2.2:8000/dir/file.bin", diagnostic);
    REQUIRE(!url.is_error());
    CHECK(url.value().address == 0x0a000202);
    CHECK(url.value().port == 8000);
    CHECK(strcmp(url.value().path, "/dir/file.bin") == 0);
    CHECK(strcmp(url_file_name(url.value()), "file.bin") == 0);

    auto url2 = parse_url("http://127.0.0.1", diagnostic);
    REQUIRE(!url2.is_error());
    CHECK(url2.value().port == 80);
    CHECK(strcmp(url2.value().path, "/") == 0);
    CHECK(strcmp(url_file_name(url2.value()), "index.html") == 0);
}

TEST_CASE("http: URLs refused", "[http]")
{
    const char* bad[] = {
        "https://10.0.2.2/",
        "ftp://10.0.2.2/",
        "http://example.com/",
        "http://10.0.2.256/",
        "http:///x",
        "http://10.0.2.2:0/",
        "http://10.0.2.2:65536/",
        "http://10.0.2.2:/",
        "http://10.0.2.2:80x/",
        "http://10.0.2.2/a b",
    };
    for (const char* text : bad) {
        Diagnostic diagnostic;
        INFO(text);
        CHECK(parse_url(text, diagnostic).error() == Error::EINVAL);
        CHECK(!diagnostic.empty());
    }
    Diagnostic diagnostic;
    CHECK(parse_url("http://example.com/", diagnostic).is_error());
    CHECK(strstr(diagnostic.message, "unable to resolve host address 'example.com'"));
    char long_url[400] = "http://1.2.3.4/";
    memset(long_url + 15, 'a', 300);
    CHECK(parse_url(long_url, diagnostic).error() == Error::EINVAL);
}

TEST_CASE("http: the end of a request head", "[http]")
{
    CHECK(find_head_end(bytes("GET / HTTP/1.0\r\n"), 16).value() == 0);
    CHECK(find_head_end(bytes("GET / HTTP/1.0\r\n\r\n"), 18).value() == 18);
    CHECK(find_head_end(bytes("GET / HTTP/1.0\nHost: x\n\nrest"), 28).value() == 24);
    CHECK(find_head_end(bytes("GET /\r\n"), 7).value() == 7); // HTTP/0.9
    uint8_t big[kMaxHead + 10];
    memset(big, 'a', sizeof(big));
    CHECK(find_head_end(big, sizeof(big)).error() == Error::EMSGSIZE);
    CHECK(find_head_end(big, 100).value() == 0);
}

TEST_CASE("http: request lines", "[http]")
{
    Diagnostic diagnostic;
    auto request = request_of("GET /a%20b/c.txt?x=1 HTTP/1.1\r\nHost: h\r\n\r\n", diagnostic);
    REQUIRE(!request.is_error());
    CHECK(request.value().method == Method::Get);
    CHECK(request.value().minor == 1);
    CHECK(strcmp(request.value().path, "/a b/c.txt") == 0);

    auto request2 = request_of("HEAD / HTTP/1.0\r\n\r\n", diagnostic);
    REQUIRE(!request2.is_error());
    CHECK(request2.value().method == Method::Head);

    auto request3 = request_of("POST /x HTTP/1.0\r\n\r\n", diagnostic);
    REQUIRE(!request3.is_error());
    CHECK(request3.value().method == Method::Other);

    auto request4 = request_of("GET /old\r\n", diagnostic);
    REQUIRE(!request4.is_error());
    CHECK(request4.value().minor == 9);

    CHECK(request_of("GET / HTTP/2.0\r\n\r\n", diagnostic).error() == Error::EINVAL);
    CHECK(request_of("GET / HTTP/1.2\r\n\r\n", diagnostic).error() == Error::ENOTSUP);
    const char* bad[] = {
        "GET\r\n\r\n",
        " / HTTP/1.0\r\n\r\n",
        "get / HTTP/1.0\r\n\r\n",
        "GET x HTTP/1.0\r\n\r\n",
        "GET /%2 HTTP/1.0\r\n\r\n",
        "GET /%zz HTTP/1.0\r\n\r\n",
        "GET /a%00b HTTP/1.0\r\n\r\n",
        "GET /a%2fb HTTP/1.0\r\n\r\n",
        "GET /a\x01 HTTP/1.0\r\n\r\n",
        "POST /x\r\n",
        "no line end",
    };
    for (const char* text : bad) {
        INFO(text);
        Diagnostic reason;
        CHECK(request_of(text, reason).error() == Error::EINVAL);
        CHECK(!reason.empty());
    }
}

TEST_CASE("http: paths safe to serve", "[http]")
{
    CHECK(path_is_safe("/"));
    CHECK(path_is_safe("/file"));
    CHECK(path_is_safe("/dir/"));
    CHECK(path_is_safe("/a/b.c/..d"));
    CHECK(!path_is_safe("/.."));
    CHECK(!path_is_safe("/../etc"));
    CHECK(!path_is_safe("/a/../b"));
    CHECK(!path_is_safe("/a/./b"));
    CHECK(!path_is_safe("/a//b"));
    CHECK(!path_is_safe("a"));
}

TEST_CASE("http: response heads", "[http]")
{
    Diagnostic diagnostic;
    auto response = response_of("HTTP/1.0 200 OK\r\nServer: x\r\nContent-Length: 1234\r\n\r\nBODY", diagnostic);
    REQUIRE(!response.is_error());
    CHECK(response.value().status == 200);
    CHECK(response.value().minor == 0);
    CHECK(strcmp(response.value().reason, "OK") == 0);
    CHECK(response.value().has_length);
    CHECK(response.value().content_length == 1234);
    CHECK(response.value().head_length == 52);

    auto response2 = response_of("HTTP/1.1 404 File not found\ncontent-LENGTH:  7 \n\n", diagnostic);
    REQUIRE(!response2.is_error());
    CHECK(response2.value().status == 404);
    CHECK(strcmp(response2.value().reason, "File not found") == 0);
    CHECK(response2.value().content_length == 7);

    auto response3 = response_of("HTTP/1.0 204\r\n\r\n", diagnostic);
    REQUIRE(!response3.is_error());
    CHECK(!response3.value().has_length);

    auto response4 = response_of("HTTP/1.0 200 OK\r\nContent-Le", diagnostic);
    REQUIRE(!response4.is_error());
    CHECK(response4.value().head_length == 0); // more is needed

    auto response5 = response_of("HTTP/1.0 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", diagnostic);
    REQUIRE(!response5.is_error());
}

TEST_CASE("http: response heads refused", "[http]")
{
    const char* bad[] = {
        "HTTP/1.0 2000 OK\r\n\r\n",
        "HTTP/1.0 20 OK\r\n\r\n",
        "HTTP/1.0 abc OK\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "HTTP/1.0 099 Low\r\n\r\n",
        "HTTP/1.0 200 OK\r\nno colon\r\n\r\n",
        "HTTP/1.0 200 OK\r\n: empty name\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 1 2\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length:\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "HTTP/1.0 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
    };
    for (const char* text : bad) {
        INFO(text);
        Diagnostic diagnostic;
        CHECK(response_of(text, diagnostic).error() == Error::EINVAL);
        CHECK(!diagnostic.empty());
    }
    char big[kMaxHead + 20];
    memcpy(big, "HTTP/1.0 200 OK\r\nX: ", 20);
    memset(big + 20, 'a', sizeof(big) - 21);
    big[sizeof(big) - 1] = 0;
    Diagnostic diagnostic;
    CHECK(response_of(big, diagnostic).error() == Error::EMSGSIZE);
}
