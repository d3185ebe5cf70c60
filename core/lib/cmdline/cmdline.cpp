#include "lib/cmdline/cmdline.h"

#include "lib/base/format.h"

namespace keel {

namespace {

// Linux's isspace for the ASCII range.
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

char* skip_spaces(char* p)
{
    while (is_space(*p))
        ++p;
    return p;
}

struct Token {
    char* key;
    size_t key_len;
    char* value;
    size_t value_len;
    bool raw_double_dash; // the token was exactly `--`, unquoted
    bool unterminated_quote;
};

// Cuts the token at *cursor (which must not be at a space or the end) out
// of the buffer: quotes are removed by compacting the text leftwards, the
// key (and the value, when split_equals finds a '=') are NUL-terminated,
// and *cursor moves past the token and the whitespace after it.
void next_token(char*& cursor, Token& out, bool split_equals)
{
    char* read = cursor;
    char* write = cursor;
    bool in_quote = false;
    bool quoted = false;
    out.key = cursor;
    out.value = nullptr;
    out.value_len = 0;

    for (; *read && (in_quote || !is_space(*read)); ++read) {
        char c = *read;
        if (c == '"') {
            in_quote = !in_quote;
            quoted = true;
            continue;
        }
        if (c == '=' && split_equals && !out.value) {
            *write++ = '\0';
            out.value = write;
            continue;
        }
        *write++ = c;
    }
    out.raw_double_dash = !quoted && read - cursor == 2 && cursor[0] == '-' && cursor[1] == '-';
    out.unterminated_quote = in_quote;

    // `read` points at the terminating space or NUL; `write` <= `read`.
    char* rest = *read ? read + 1 : read;
    *write = '\0';
    if (out.value) {
        out.key_len = static_cast<size_t>(out.value - 1 - out.key);
        out.value_len = static_cast<size_t>(write - out.value);
    } else {
        out.key_len = static_cast<size_t>(write - out.key);
    }
    cursor = skip_spaces(rest);
}

char to_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool equal_ignoring_case(const char* text, size_t length, const char* word)
{
    size_t i = 0;
    for (; i < length; ++i) {
        if (word[i] == '\0' || to_lower(text[i]) != word[i])
            return false;
    }
    return word[i] == '\0';
}

int digit_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = to_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return 99;
}

// Parses the magnitude after any sign; EINVAL for junk, ERANGE past `limit`.
Result<uint64_t> parse_magnitude(const char* text, size_t length, uint64_t limit)
{
    unsigned base = 10;
    if (length >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
        length -= 2;
    }
    if (length == 0)
        return Err(Error::EINVAL);
    uint64_t value = 0;
    bool overflow = false;
    for (size_t i = 0; i < length; ++i) {
        int digit = digit_value(text[i]);
        if (digit >= static_cast<int>(base))
            return Err(Error::EINVAL);
        // Keep scanning after an overflow: junk later on is still EINVAL.
        if (overflow || mul_overflows(value, uint64_t(base), &value) || add_overflows(value, uint64_t(digit), &value)
            || value > limit)
            overflow = true;
    }
    if (overflow)
        return Err(Error::ERANGE);
    return value;
}

void report(const CmdlineReporter* reporter, CmdlineIssue issue, const CmdlineParam& param, const char* message)
{
    if (reporter && reporter->report)
        reporter->report(reporter->ctx, issue, param.key, param.value, message);
}

// The value of a String or List parameter, or nullptr after reporting why not.
const char* checked_text(const KernelParamSpec& spec, const CmdlineParam& param, const CmdlineReporter* reporter)
{
    if (!param.has_value) {
        report(reporter, CmdlineIssue::InvalidValue, param, "needs a value");
        return nullptr;
    }
    if (param.value_len == 0) {
        report(reporter, CmdlineIssue::InvalidValue, param, "empty value");
        return nullptr;
    }
    if (spec.check) {
        if (const char* why = spec.check(param.value)) {
            report(reporter, CmdlineIssue::InvalidValue, param, why);
            return nullptr;
        }
    }
    return param.value;
}

void apply_one(const KernelParamSpec& spec, const CmdlineParam& param, const CmdlineReporter* reporter)
{
    auto invalid = [&](const char* message) { report(reporter, CmdlineIssue::InvalidValue, param, message); };
    switch (spec.kind) {
    case KernelParamSpec::Flag:
        if (param.has_value)
            return invalid("takes no value");
        *static_cast<bool*>(spec.target) = true;
        return;
    case KernelParamSpec::Bool: {
        if (!param.has_value) {
            *static_cast<bool*>(spec.target) = true;
            return;
        }
        auto value = parse_bool(param.value, param.value_len);
        if (value.is_error())
            return invalid("expects a boolean (y/n, 1/0, on/off, true/false)");
        *static_cast<bool*>(spec.target) = value.value();
        return;
    }
    case KernelParamSpec::Int: {
        if (!param.has_value)
            return invalid("needs a value");
        auto value = parse_int(param.value, param.value_len);
        if (value.is_error())
            return invalid(value.error() == Error::ERANGE ? "integer out of range" : "expects an integer");
        if (value.value() < spec.min || value.value() > spec.max) {
            char message[64];
            format(message, sizeof(message), "out of range (%lld to %lld)", (long long)spec.min, (long long)spec.max);
            return invalid(message);
        }
        *static_cast<int64_t*>(spec.target) = value.value();
        return;
    }
    case KernelParamSpec::UInt: {
        if (!param.has_value)
            return invalid("needs a value");
        auto value = parse_uint(param.value, param.value_len);
        if (value.is_error())
            return invalid(value.error() == Error::ERANGE ? "integer out of range" : "expects an unsigned integer");
        *static_cast<uint64_t*>(spec.target) = value.value();
        return;
    }
    case KernelParamSpec::OptionalUInt: {
        auto& target = *static_cast<CmdlineOptionalUInt*>(spec.target);
        if (!param.has_value) {
            target = { true, false, 0 };
            return;
        }
        auto value = parse_uint(param.value, param.value_len);
        if (value.is_error())
            return invalid(value.error() == Error::ERANGE ? "integer out of range" : "expects an unsigned integer");
        uint64_t number = value.value();
        if (number > uint64_t(INT64_MAX) || int64_t(number) < spec.min || int64_t(number) > spec.max) {
            char message[64];
            format(message, sizeof(message), "out of range (%lld to %lld)", (long long)spec.min, (long long)spec.max);
            return invalid(message);
        }
        target = { true, true, number };
        return;
    }
    case KernelParamSpec::String:
        if (const char* text = checked_text(spec, param, reporter))
            *static_cast<const char**>(spec.target) = text;
        return;
    case KernelParamSpec::List: {
        const char* text = checked_text(spec, param, reporter);
        if (!text)
            return;
        auto& list = *static_cast<CmdlineValues*>(spec.target);
        if (list.count == CmdlineValues::kCapacity)
            return invalid("given more often than the kernel keeps (8 times)");
        list.values[list.count++] = text;
        return;
    }
    }
    invalid("parameter has an unknown kind");
}

} // namespace

CmdlineParser::CmdlineParser(char* cmdline)
    : m_cursor(cmdline ? skip_spaces(cmdline) : nullptr)
{
}

bool CmdlineParser::next(CmdlineParam& out)
{
    if (!m_cursor || !*m_cursor)
        return false;
    Token token;
    next_token(m_cursor, token, true);
    if (token.raw_double_dash) {
        m_init_args = m_cursor;
        m_cursor = nullptr;
        return false;
    }
    out.key = token.key;
    out.key_len = token.key_len;
    out.value = token.value;
    out.value_len = token.value_len;
    out.has_value = token.value != nullptr;
    out.unterminated_quote = token.unterminated_quote;
    if (token.unterminated_quote)
        m_saw_unterminated_quote = true;
    return true;
}

Result<size_t> split_words(char* line, const char** words, size_t capacity)
{
    if (capacity == 0)
        return Err(Error::E2BIG);
    size_t count = 0;
    char* cursor = line ? skip_spaces(line) : nullptr;
    while (cursor && *cursor) {
        if (count == capacity - 1)
            return Err(Error::E2BIG);
        Token token;
        next_token(cursor, token, false);
        words[count++] = token.key;
    }
    words[count] = nullptr;
    return count;
}

bool param_name_equal(const char* a, size_t a_len, const char* b, size_t b_len)
{
    if (a_len != b_len)
        return false;
    for (size_t i = 0; i < a_len; ++i) {
        char x = a[i] == '-' ? '_' : a[i];
        char y = b[i] == '-' ? '_' : b[i];
        if (x != y)
            return false;
    }
    return true;
}

bool param_name_equal(const char* a, const char* b)
{
    for (;; ++a, ++b) {
        char x = *a == '-' ? '_' : *a;
        char y = *b == '-' ? '_' : *b;
        if (x != y)
            return false;
        if (x == '\0')
            return true;
    }
}

Result<int64_t> parse_int(const char* text, size_t length)
{
    bool negative = false;
    if (length > 0 && (text[0] == '-' || text[0] == '+')) {
        negative = text[0] == '-';
        ++text;
        --length;
    }
    uint64_t limit = negative ? uint64_t(INT64_MAX) + 1 : uint64_t(INT64_MAX);
    uint64_t magnitude = TRY(parse_magnitude(text, length, limit));
    // Negate in unsigned arithmetic so INT64_MIN does not overflow.
    return negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
}

Result<uint64_t> parse_uint(const char* text, size_t length)
{
    if (length > 0 && text[0] == '+') {
        ++text;
        --length;
    }
    return parse_magnitude(text, length, UINT64_MAX);
}

Result<bool> parse_bool(const char* text, size_t length)
{
    static constexpr const char* kTrue[] = { "1", "y", "yes", "on", "true" };
    static constexpr const char* kFalse[] = { "0", "n", "no", "off", "false" };
    for (const char* word : kTrue) {
        if (equal_ignoring_case(text, length, word))
            return true;
    }
    for (const char* word : kFalse) {
        if (equal_ignoring_case(text, length, word))
            return false;
    }
    return Err(Error::EINVAL);
}

char* apply_cmdline(char* cmdline, const KernelParamSpec* specs, size_t count, const CmdlineReporter* reporter)
{
    // Which specs were seen, to report repetitions (the first 64).
    uint64_t seen = 0;
    CmdlineParser parser(cmdline);
    CmdlineParam param;
    while (parser.next(param)) {
        if (param.unterminated_quote)
            report(reporter, CmdlineIssue::UnterminatedQuote, param,
                "unterminated quote; value runs to the end of the line");
        if (param.key_len == 0) {
            report(reporter, CmdlineIssue::UnknownParameter, param, "empty parameter name");
            continue;
        }
        size_t index = 0;
        while (index < count && !(specs[index].name && param_name_equal(param.key, specs[index].name)))
            ++index;
        if (index == count) {
            report(reporter, CmdlineIssue::UnknownParameter, param, "unknown parameter");
            continue;
        }
        const KernelParamSpec& match = specs[index];
        if (index < 64 && match.kind != KernelParamSpec::List) {
            uint64_t bit = uint64_t(1) << index;
            if (seen & bit)
                report(reporter, CmdlineIssue::Repeated, param, "given more than once; the last good value wins");
            seen |= bit;
        }
        apply_one(match, param, reporter);
    }
    return parser.init_args();
}

} // namespace keel
