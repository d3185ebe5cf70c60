// The kernel command line, in Linux's syntax (lib/cmdline.c next_arg and
// kernel/params.c parse_args):
//
//   * parameters are separated by whitespace; `key` is a bare flag,
//     `key=value` has a value (split at the first '=');
//   * double quotes group: `key="a b"` and `"key=a b"` both give key `key`
//     and value `a b`. Every quote character in a token is removed, so
//     quotes may also sit in the middle (`key=a" "b` gives `a b`);
//   * a bare `--` ends the kernel's parameters; the rest belongs to init;
//   * in names, '-' and '_' are the same character (param_name_equal);
//   * an unterminated quote runs to the end of the line; the parameter is
//     still returned, with a warning flag, never an error.
//
// The parser works in place, like Linux: it writes NULs and removes quotes
// inside the caller's buffer, so every key and value it returns is a
// NUL-terminated string that lives as long as the buffer (String parameters
// point into it). Copy the boot loader's line into a kernel buffer first.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/base/result.h"

namespace keel {

struct CmdlineParam {
    const char* key;
    size_t key_len;
    const char* value; // nullptr for a bare flag
    size_t value_len;
    bool has_value;
    bool unterminated_quote;
};

class CmdlineParser {
public:
    explicit CmdlineParser(char* cmdline);

    // The next kernel parameter; false at the end of the line or at `--`.
    bool next(CmdlineParam& out);

    // After next() returned false: what followed `--` (leading spaces
    // skipped, otherwise untouched), or nullptr when there was no `--`.
    char* init_args() const { return m_init_args; }
    bool saw_unterminated_quote() const { return m_saw_unterminated_quote; }

private:
    char* m_cursor;
    char* m_init_args = nullptr;
    bool m_saw_unterminated_quote = false;
};

// Splits a line into words in place, argv-style, with the command line's
// quoting rules but no '=' splitting: init's arguments (what followed `--`)
// and console lines. `words` has room for `capacity` pointers: the words
// and a terminating nullptr. Returns the number of words, or E2BIG when
// they do not all fit with the terminator (nothing past `capacity` is
// written, and the caller must not use the words then).
Result<size_t> split_words(char* line, const char** words, size_t capacity);

// Linux's parameq: equal names, where '-' and '_' match each other.
bool param_name_equal(const char* a, const char* b);
bool param_name_equal(const char* a, size_t a_len, const char* b, size_t b_len);

// Decimal or 0x-prefixed hexadecimal with an optional sign. The whole text
// must be a number (EINVAL otherwise); ERANGE when it does not fit. Unlike
// Linux's base-0 kstrto*, a leading 0 does not mean octal ("010" is 10).
Result<int64_t> parse_int(const char* text, size_t length);
Result<uint64_t> parse_uint(const char* text, size_t length); // '+' allowed, '-' is EINVAL
// 1/0, y/n, yes/no, on/off, true/false in any case: the words Linux's
// kstrtobool accepts, matched exactly rather than by first letter.
Result<bool> parse_bool(const char* text, size_t length);

// Every value of a parameter that may be given more than once, each
// occurrence adding one (Linux's memmap=): at most kCapacity, in order.
struct CmdlineValues {
    static constexpr size_t kCapacity = 8;
    const char* values[kCapacity] = {};
    size_t count = 0;
};

// A parameter that is a bare flag or takes a number (Linux's `rootwait` and
// `rootwait=SECONDS`).
struct CmdlineOptionalUInt {
    bool given = false;     // by either form
    bool has_value = false; // NAME=N rather than the bare NAME
    uint64_t value = 0;
};

// A parameter the kernel understands. `target` points at:
//   Flag   bool           set to true by the bare name (a value is an error)
//   Bool   bool           parse_bool of the value; the bare name means true
//   Int    int64_t        parse_int, value required, within [min, max]
//   UInt   uint64_t       parse_uint, value required
//   OptionalUInt CmdlineOptionalUInt  the bare name, or a value parse_uint
//                         reads within [min, max]
//   String const char*    the value (pointing into the command line buffer),
//                         value required
//   List   CmdlineValues  each occurrence's value appended (a value past
//                         the capacity is reported and dropped)
// A String or List value that is empty, or that `check` refuses, is
// reported and ignored. A bad value never changes the target: the
// parameter keeps its default or an earlier good value. Any other
// parameter given more than once is reported, and the last good value
// wins, as in Linux.
struct KernelParamSpec {
    enum Kind { Flag, Bool, Int, UInt, String, List, OptionalUInt };
    const char* name;
    Kind kind;
    void* target;
    const char* description;
    int64_t min = INT64_MIN;
    int64_t max = INT64_MAX;
    // nullptr, or why `value` (NUL-terminated, non-empty) is refused.
    const char* (*check)(const char* value) = nullptr;
};

enum class CmdlineIssue {
    UnknownParameter,
    InvalidValue,      // message says why
    UnterminatedQuote, // the parameter was still applied
    Repeated,          // given again; the last good value wins
};

// Receives every problem apply_cmdline meets; none of them is fatal.
// `value` is nullptr when the parameter had none.
struct CmdlineReporter {
    void (*report)(void* ctx, CmdlineIssue issue, const char* key, const char* value, const char* message);
    void* ctx;
};

// Parses `cmdline` in place and sets the target of every matching spec
// (the last occurrence wins, as in Linux). Unknown parameters and bad
// values go to `reporter` (may be null) and are otherwise skipped. Returns
// init's arguments (after `--`), or nullptr when there were none.
char* apply_cmdline(char* cmdline, const KernelParamSpec* specs, size_t count, const CmdlineReporter* reporter);

} // namespace keel
