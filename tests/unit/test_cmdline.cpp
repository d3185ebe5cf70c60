#include <catch2/catch.hpp>

#include <string.h>

#include <string>
#include <vector>

#include "lib/cmdline/cmdline.h"
#include "lib/cmdline/module_params.h"

using keel::CmdlineIssue;
using keel::CmdlineParam;
using keel::CmdlineParser;
using keel::Error;
using keel::KernelParamSpec;

namespace {

struct Parsed {
    std::string key;
    std::string value;
    bool has_value;
    bool unterminated;
};

struct ParseResult {
    std::vector<Parsed> params;
    bool has_init_args = false;
    std::string init_args;
};

ParseResult parse(const std::string& line)
{
    std::vector<char> buffer(line.begin(), line.end());
    buffer.push_back('\0');
    CmdlineParser parser(buffer.data());
    ParseResult result;
    CmdlineParam param;
    while (parser.next(param)) {
        REQUIRE(strlen(param.key) == param.key_len);
        if (param.has_value)
            REQUIRE(strlen(param.value) == param.value_len);
        else
            REQUIRE(param.value == nullptr);
        result.params.push_back(
            { param.key, param.has_value ? param.value : "", param.has_value, param.unterminated_quote });
    }
    if (parser.init_args()) {
        result.has_init_args = true;
        result.init_args = parser.init_args();
    }
    return result;
}

} // namespace

TEST_CASE("cmdline: flags and values", "[cmdline]")
{
    auto r = parse("  quiet loglevel=7\tinit=/sbin/init   empty= a=b=c \n");
    REQUIRE(r.params.size() == 5);
    CHECK(r.params[0].key == "quiet");
    CHECK(!r.params[0].has_value);
    CHECK(r.params[1].key == "loglevel");
    CHECK(r.params[1].value == "7");
    CHECK(r.params[2].key == "init");
    CHECK(r.params[2].value == "/sbin/init");
    CHECK(r.params[3].key == "empty");
    CHECK(r.params[3].has_value);
    CHECK(r.params[3].value == "");
    CHECK(r.params[4].key == "a");
    CHECK(r.params[4].value == "b=c");
    CHECK(!r.has_init_args);
}

TEST_CASE("cmdline: empty and blank lines", "[cmdline]")
{
    CHECK(parse("").params.empty());
    CHECK(parse("   \t\n ").params.empty());
    CmdlineParser null_parser(nullptr);
    CmdlineParam param;
    CHECK(!null_parser.next(param));
}

TEST_CASE("cmdline: quotes", "[cmdline]")
{
    auto r = parse("key=\"a b\" \"key2=c d\" k3=x\"y z\"w \"\" \"flag with space\"");
    REQUIRE(r.params.size() == 5);
    CHECK(r.params[0].key == "key");
    CHECK(r.params[0].value == "a b");
    CHECK(r.params[1].key == "key2");
    CHECK(r.params[1].value == "c d");
    CHECK(r.params[2].key == "k3");
    CHECK(r.params[2].value == "xy zw");
    CHECK(r.params[3].key == "");
    CHECK(!r.params[3].has_value);
    CHECK(r.params[4].key == "flag with space");
    for (auto& p : r.params)
        CHECK(!p.unterminated);
}

TEST_CASE("cmdline: unterminated quote takes the rest", "[cmdline]")
{
    std::string line = "a=1 b=\"x y  z";
    std::vector<char> buffer(line.begin(), line.end());
    buffer.push_back('\0');
    CmdlineParser parser(buffer.data());
    CmdlineParam param;
    REQUIRE(parser.next(param));
    CHECK(!param.unterminated_quote);
    REQUIRE(parser.next(param));
    CHECK(std::string(param.key) == "b");
    CHECK(std::string(param.value) == "x y  z");
    CHECK(param.unterminated_quote);
    CHECK(!parser.next(param));
    CHECK(parser.saw_unterminated_quote());
}

TEST_CASE("cmdline: -- separates init's arguments", "[cmdline]")
{
    auto r = parse("ro root=/dev/sda1 -- single  \"x y\" --");
    REQUIRE(r.params.size() == 2);
    REQUIRE(r.has_init_args);
    CHECK(r.init_args == "single  \"x y\" --");

    auto quoted = parse("a \"--\" b");
    REQUIRE(quoted.params.size() == 3); // a quoted -- is an ordinary parameter
    CHECK(quoted.params[1].key == "--");
    CHECK(!quoted.has_init_args);

    auto trailing = parse("a --");
    CHECK(trailing.params.size() == 1);
    CHECK(trailing.has_init_args);
    CHECK(trailing.init_args.empty());

    auto not_dashes = parse("--- --x=1");
    CHECK(not_dashes.params.size() == 2);
}

TEST_CASE("cmdline: split_words", "[cmdline]")
{
    char line[] = "  single  \"hello world\" a=b  -- ";
    const char* words[5] = { "x", "x", "x", "x", "x" };
    auto count = keel::split_words(line, words, 5);
    REQUIRE(count.is_ok());
    CHECK(count.value() == 4);
    CHECK(std::string(words[0]) == "single");
    CHECK(std::string(words[1]) == "hello world");
    CHECK(std::string(words[2]) == "a=b");
    CHECK(std::string(words[3]) == "--");
    CHECK(words[4] == nullptr);

    auto none = keel::split_words(nullptr, words, 5);
    REQUIRE(none.is_ok());
    CHECK(none.value() == 0);
    CHECK(words[0] == nullptr);
    char blank[] = "   ";
    CHECK(keel::split_words(blank, words, 1).value() == 0);
}

TEST_CASE("cmdline: split_words refuses more words than fit, writing nothing past them", "[cmdline]")
{
    // The console once took the word count of a 34-word line as the
    // number of arguments it had stored in an array of 33.
    for (size_t words_in_line = 0; words_in_line < 40; ++words_in_line) {
        std::string text;
        for (size_t i = 0; i < words_in_line; ++i)
            text += " a";
        for (size_t capacity = 0; capacity < 40; ++capacity) {
            std::vector<char> line(text.begin(), text.end());
            line.push_back('\0');
            const char* sentinel = "sentinel";
            std::vector<const char*> words(capacity + 2, sentinel);
            auto count = keel::split_words(line.data(), words.data(), capacity);
            if (words_in_line + 1 <= capacity) {
                REQUIRE(count.is_ok());
                CHECK(count.value() == words_in_line);
                CHECK(words[words_in_line] == nullptr);
            } else {
                REQUIRE(count.is_error());
                CHECK(count.error() == keel::Error::E2BIG);
            }
            // Nothing past `capacity` is written.
            CHECK(words[capacity] == sentinel);
            CHECK(words[capacity + 1] == sentinel);
        }
    }
}

TEST_CASE("cmdline: param_name_equal", "[cmdline]")
{
    CHECK(keel::param_name_equal("sig_enforce", "sig-enforce"));
    CHECK(keel::param_name_equal("module.sig_enforce", "module.sig-enforce"));
    CHECK(keel::param_name_equal("a-b_c", "a_b-c"));
    CHECK(!keel::param_name_equal("abc", "abcd"));
    CHECK(!keel::param_name_equal("abcd", "abc"));
    CHECK(!keel::param_name_equal("a.b", "a_b"));
    CHECK(keel::param_name_equal("", ""));
    CHECK(keel::param_name_equal("rd-init", 5, "rd_init", 7) == false);
    CHECK(keel::param_name_equal("rd-init", 7, "rd_init", 7));
}

TEST_CASE("cmdline: parse_int", "[cmdline]")
{
    auto ok = [](const char* text, int64_t expected) {
        auto result = keel::parse_int(text, strlen(text));
        INFO(text);
        REQUIRE(result.is_ok());
        CHECK(result.value() == expected);
    };
    auto fails = [](const char* text, Error error) {
        auto result = keel::parse_int(text, strlen(text));
        INFO(text);
        REQUIRE(result.is_error());
        CHECK(result.error() == error);
    };
    ok("0", 0);
    ok("42", 42);
    ok("-42", -42);
    ok("+42", 42);
    ok("010", 10);
    ok("0x1f", 31);
    ok("0XFF", 255);
    ok("-0x10", -16);
    ok("9223372036854775807", INT64_MAX);
    ok("-9223372036854775808", INT64_MIN);
    ok("0x7fffffffffffffff", INT64_MAX);
    fails("9223372036854775808", Error::ERANGE);
    fails("-9223372036854775809", Error::ERANGE);
    fails("99999999999999999999999", Error::ERANGE);
    fails("0x8000000000000000", Error::ERANGE);
    fails("", Error::EINVAL);
    fails("-", Error::EINVAL);
    fails("+", Error::EINVAL);
    fails("0x", Error::EINVAL);
    fails("12a", Error::EINVAL);
    fails("0x1g", Error::EINVAL);
    fails(" 1", Error::EINVAL);
    fails("1 ", Error::EINVAL);
    fails("--1", Error::EINVAL);
    fails("99999999999999999999999x", Error::EINVAL);

    // The length bounds the text: no NUL needed.
    CHECK(keel::parse_int("123456", 3).value() == 123);
}

TEST_CASE("cmdline: parse_uint", "[cmdline]")
{
    CHECK(keel::parse_uint("18446744073709551615", 20).value() == UINT64_MAX);
    CHECK(keel::parse_uint("0xffffffffffffffff", 18).value() == UINT64_MAX);
    CHECK(keel::parse_uint("+7", 2).value() == 7);
    CHECK(keel::parse_uint("18446744073709551616", 20).error() == Error::ERANGE);
    CHECK(keel::parse_uint("-1", 2).error() == Error::EINVAL);
    CHECK(keel::parse_uint("", 0).error() == Error::EINVAL);
}

TEST_CASE("cmdline: parse_bool", "[cmdline]")
{
    for (const char* text : { "1", "y", "Y", "yes", "YES", "on", "On", "true", "TRUE" }) {
        INFO(text);
        CHECK(keel::parse_bool(text, strlen(text)).value() == true);
    }
    for (const char* text : { "0", "n", "N", "no", "off", "OFF", "false", "False" }) {
        INFO(text);
        CHECK(keel::parse_bool(text, strlen(text)).value() == false);
    }
    for (const char* text : { "", "2", "o", "yess", "onn", "tru", "nope", " y", "enable" }) {
        INFO(text);
        CHECK(keel::parse_bool(text, strlen(text)).error() == Error::EINVAL);
    }
}

namespace {

struct Issue {
    CmdlineIssue issue;
    std::string key;
    std::string value;
};

void record_issue(void* ctx, CmdlineIssue issue, const char* key, const char* value, const char* message)
{
    REQUIRE(message != nullptr);
    static_cast<std::vector<Issue>*>(ctx)->push_back({ issue, key, value ? value : "<none>" });
}

struct KernelParams {
    int64_t loglevel = 4;
    int64_t panic = 0;
    bool nullfs_rootfs = false;
    const char* rdinit = "/init";
    const char* init = nullptr;
    bool sig_enforce = false;
    uint64_t mem = 0;
    KernelParamSpec specs[7] = {
        { "loglevel", KernelParamSpec::Int, &loglevel, "console log level" },
        { "panic", KernelParamSpec::Int, &panic, "seconds before reboot on panic" },
        { "nullfs_rootfs", KernelParamSpec::Flag, &nullfs_rootfs, "empty root filesystem" },
        { "rdinit", KernelParamSpec::String, &rdinit, "init in the initramfs" },
        { "init", KernelParamSpec::String, &init, "init on the root filesystem" },
        { "module.sig_enforce", KernelParamSpec::Bool, &sig_enforce, "require signed modules" },
        { "mem", KernelParamSpec::UInt, &mem, "memory limit" },
    };
};

} // namespace

TEST_CASE("cmdline: apply_cmdline sets targets and reports problems", "[cmdline]")
{
    KernelParams params;
    std::vector<Issue> issues;
    keel::CmdlineReporter reporter { record_issue, &issues };

    char line[] = "loglevel=7 panic=-1 nullfs-rootfs rdinit=\"/bin/my init\" module.sig-enforce "
                  "bogus=1 loglevel=8 panic=x nullfs_rootfs=1 init mem=0x1000 "
                  "module.sig_enforce=maybe =v -- single x=y";
    char* init_args = keel::apply_cmdline(line, params.specs, 7, &reporter);

    CHECK(params.loglevel == 8); // last wins
    CHECK(params.panic == -1);   // the bad later value leaves it alone
    CHECK(params.nullfs_rootfs);
    CHECK(std::string(params.rdinit) == "/bin/my init");
    CHECK(params.init == nullptr);
    CHECK(params.sig_enforce);
    CHECK(params.mem == 0x1000);
    REQUIRE(init_args != nullptr);
    CHECK(std::string(init_args) == "single x=y");

    // Each repetition is reported before its value is looked at.
    std::vector<std::pair<CmdlineIssue, std::string>> expected = {
        { CmdlineIssue::UnknownParameter, "bogus" }, { CmdlineIssue::Repeated, "loglevel" },
        { CmdlineIssue::Repeated, "panic" }, { CmdlineIssue::InvalidValue, "panic" },
        { CmdlineIssue::Repeated, "nullfs_rootfs" },
        { CmdlineIssue::InvalidValue, "nullfs_rootfs" }, // Flag with a value
        { CmdlineIssue::InvalidValue, "init" },          // String without a value
        { CmdlineIssue::Repeated, "module.sig_enforce" }, { CmdlineIssue::InvalidValue, "module.sig_enforce" },
        { CmdlineIssue::UnknownParameter, "" }, // empty name
    };
    REQUIRE(issues.size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        INFO(i);
        CHECK(issues[i].issue == expected[i].first);
        CHECK(issues[i].key == expected[i].second);
    }
    CHECK(issues[3].value == "x");
    CHECK(issues[6].value == "<none>");
}

TEST_CASE("cmdline: ranges, empty values, checks and lists", "[cmdline]")
{
    int64_t level = -1;
    const char* path = "/default";
    keel::CmdlineValues reservations;
    auto absolute = [](const char* value) -> const char* { return value[0] == '/' ? nullptr : "not absolute"; };
    const KernelParamSpec specs[] = {
        { "level", KernelParamSpec::Int, &level, "", 0, 15 },
        { "path", KernelParamSpec::String, &path, "", 0, 0, absolute },
        { "reserve", KernelParamSpec::List, &reservations, "" },
    };
    std::vector<Issue> issues;
    keel::CmdlineReporter reporter { record_issue, &issues };
    std::string text = "level=16 level=-1 level= level=3 path= path=relative path=/ok path=\"\" reserve= ";
    for (int i = 0; i < 10; ++i)
        text += "reserve=r" + std::to_string(i) + " ";
    std::vector<char> line(text.begin(), text.end());
    line.push_back('\0');
    keel::apply_cmdline(line.data(), specs, 3, &reporter);
    CHECK(level == 3);
    CHECK(std::string(path) == "/ok");
    REQUIRE(reservations.count == keel::CmdlineValues::kCapacity);
    for (size_t i = 0; i < reservations.count; ++i)
        CHECK(std::string(reservations.values[i]) == "r" + std::to_string(i));
    std::vector<std::string> invalid;
    size_t repeated = 0;
    for (const Issue& issue : issues) {
        if (issue.issue == CmdlineIssue::InvalidValue)
            invalid.push_back(issue.key + "=" + issue.value);
        repeated += issue.issue == CmdlineIssue::Repeated;
    }
    CHECK(invalid
        == std::vector<std::string> { "level=16", "level=-1", "level=", "path=", "path=relative",
            "path=", "reserve=", "reserve=r8", "reserve=r9" });
    CHECK(repeated == 6); // level three times, path three times; lists never
}

TEST_CASE("cmdline: a bare flag or a number (rootwait, rootwait=SECONDS)", "[cmdline]")
{
    auto apply = [](const char* text, std::vector<Issue>& issues) {
        keel::CmdlineOptionalUInt wait;
        const KernelParamSpec specs[] = { { "rootwait", KernelParamSpec::OptionalUInt, &wait, "", 0, 1000 } };
        keel::CmdlineReporter reporter { record_issue, &issues };
        std::vector<char> line(text, text + strlen(text) + 1);
        keel::apply_cmdline(line.data(), specs, 1, &reporter);
        return wait;
    };
    std::vector<Issue> issues;
    auto wait = apply("", issues);
    CHECK((!wait.given && !wait.has_value));
    wait = apply("rootwait", issues);
    CHECK((wait.given && !wait.has_value && wait.value == 0));
    wait = apply("rootwait=5", issues);
    CHECK((wait.given && wait.has_value && wait.value == 5));
    wait = apply("rootwait=0", issues);
    CHECK((wait.given && wait.has_value && wait.value == 0));
    CHECK(issues.empty());
    // A bad value is reported and changes nothing: an earlier good form stays.
    for (const char* text : { "rootwait=abc", "rootwait=-1", "rootwait=1001",
             "rootwait=", "rootwait=99999999999999999999", "rootwait=18446744073709551615" }) {
        INFO(text);
        issues.clear();
        wait = apply(text, issues);
        CHECK(!wait.given);
        REQUIRE(issues.size() == 1);
        CHECK(issues[0].issue == CmdlineIssue::InvalidValue);
    }
    issues.clear();
    wait = apply("rootwait=7 rootwait=x", issues);
    CHECK((wait.given && wait.has_value && wait.value == 7));
    wait = apply("rootwait=7 rootwait", issues);
    CHECK((wait.given && !wait.has_value));
}

TEST_CASE("cmdline: apply_cmdline without reporter or specs", "[cmdline]")
{
    char line[] = "a b=\"c";
    CHECK(keel::apply_cmdline(line, nullptr, 0, nullptr) == nullptr);

    KernelParams params;
    std::vector<Issue> issues;
    keel::CmdlineReporter reporter { record_issue, &issues };
    char line2[] = "loglevel=99999999999999999999 rdinit=\"/x y";
    keel::apply_cmdline(line2, params.specs, 7, &reporter);
    CHECK(params.loglevel == 4);
    CHECK(std::string(params.rdinit) == "/x y");
    REQUIRE(issues.size() == 2);
    CHECK(issues[0].issue == CmdlineIssue::InvalidValue);
    CHECK(issues[1].issue == CmdlineIssue::UnterminatedQuote);
}

// ---- a module's parameters on the kernel command line (module_params.h)

namespace {

std::string module_params(const std::string& line, const char* module, size_t size = 256)
{
    std::vector<char> buffer(line.begin(), line.end());
    buffer.push_back('\0');
    std::vector<char> out(size);
    auto result = keel::module_params_from_cmdline(buffer.data(), module, out.data(), size);
    if (result.is_error())
        return std::string("error ") + keel::error_name(result.error());
    REQUIRE(result.value() == strlen(out.data()));
    return out.data();
}

} // namespace

TEST_CASE("module parameters from the command line: NAME.key=value, as modprobe reads them")
{
    CHECK(module_params("panic=-1 edu_test.dma_bits=32 loglevel=7", "edu_test") == "dma_bits=32");
    CHECK(module_params("edu-test.dma_bits=32 edu_test.storm edu_test.irq=intx", "edu_test")
        == "dma_bits=32 storm irq=intx");
    CHECK(module_params("edu_test.who=\"a b\" edu_test.empty=", "edu_test") == "who=\"a b\" empty=\"\"");
    CHECK(module_params("edu_testx.a=1 edu.b=2 edu_test=3 edu_test. .edu_test.c=4", "edu_test") == "");
    CHECK(module_params("edu_test.a=1 -- edu_test.b=2", "edu_test") == "a=1");
    CHECK(module_params("", "edu_test") == "");
    CHECK(module_params("m.a=12345678", "m", 10) == "error ERANGE");
    CHECK(module_params("m.a=1234567", "m", 10) == "a=1234567");
    CHECK(module_params("m.a=x\"y\"z", "m") == "a=xyz"); // quotes are the parser's
}
