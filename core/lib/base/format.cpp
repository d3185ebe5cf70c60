#include "lib/base/format.h"

#include <stdint.h>

#include "lib/base/string.h"
#include "lib/base/utility.h"

namespace keel {

namespace {

enum class Length { Default, Char, Short, Long, LongLong, Size, Max, PtrDiff };

struct Spec {
    bool left_align = false;
    bool zero_pad = false;
    bool plus_sign = false;
    bool space_sign = false;
    bool alternate = false;
    size_t width = 0;
    bool has_precision = false;
    size_t precision = 0;
    Length length = Length::Default;
};

class Writer {
public:
    Writer(FormatEmit emit, void* ctx)
        : m_emit(emit)
        , m_ctx(ctx)
    {
    }

    void write(const char* text, size_t length)
    {
        if (length == 0)
            return;
        m_emit(m_ctx, text, length);
        m_total += length;
    }

    void repeat(char c, size_t count)
    {
        static constexpr size_t kChunk = 32;
        char chunk[kChunk];
        memset(chunk, c, kChunk);
        while (count > 0) {
            size_t n = min(count, kChunk);
            write(chunk, n);
            count -= n;
        }
    }

    size_t total() const { return m_total; }

private:
    FormatEmit m_emit;
    void* m_ctx;
    size_t m_total = 0;
};

// Emits `body` padded to the spec's width. `prefix` (sign, "0x") goes before
// zero padding, `zeros` are precision zeros that belong to the number.
void write_padded(Writer& out, const Spec& spec, const char* prefix, size_t prefix_length, size_t zeros,
    const char* body, size_t body_length, bool allow_zero_pad)
{
    size_t content = prefix_length + zeros + body_length;
    size_t padding = spec.width > content ? spec.width - content : 0;
    if (spec.left_align) {
        out.write(prefix, prefix_length);
        out.repeat('0', zeros);
        out.write(body, body_length);
        out.repeat(' ', padding);
    } else if (spec.zero_pad && allow_zero_pad) {
        out.write(prefix, prefix_length);
        out.repeat('0', zeros + padding);
        out.write(body, body_length);
    } else {
        out.repeat(' ', padding);
        out.write(prefix, prefix_length);
        out.repeat('0', zeros);
        out.write(body, body_length);
    }
}

void write_integer(
    Writer& out, const Spec& spec, uint64_t magnitude, bool negative, bool is_signed, unsigned base, bool upper)
{
    const char* digits_set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char digits[24]; // 22 octal digits cover 64 bits
    size_t count = 0;
    // printf: a zero value with precision 0 prints no digits at all.
    if (!(magnitude == 0 && spec.has_precision && spec.precision == 0)) {
        do {
            digits[sizeof(digits) - 1 - count++] = digits_set[magnitude % base];
            magnitude /= base;
        } while (magnitude != 0);
    }
    const char* body = digits + sizeof(digits) - count;

    char prefix[2];
    size_t prefix_length = 0;
    if (is_signed) {
        if (negative)
            prefix[prefix_length++] = '-';
        else if (spec.plus_sign)
            prefix[prefix_length++] = '+';
        else if (spec.space_sign)
            prefix[prefix_length++] = ' ';
    }

    size_t zeros = spec.has_precision && spec.precision > count ? spec.precision - count : 0;
    if (spec.alternate && base == 16 && count > 0 && !(count == 1 && body[0] == '0')) {
        prefix[prefix_length++] = '0';
        prefix[prefix_length++] = upper ? 'X' : 'x';
    } else if (spec.alternate && base == 8 && zeros == 0 && (count == 0 || body[0] != '0')) {
        zeros = 1; // '#' makes octal start with a 0
    }
    // As in printf, an explicit precision disables the '0' flag for integers.
    write_padded(out, spec, prefix, prefix_length, zeros, body, count, !spec.has_precision);
}

int64_t read_signed(va_list& args, Length length)
{
    switch (length) {
    case Length::Char: return static_cast<signed char>(va_arg(args, int));
    case Length::Short: return static_cast<short>(va_arg(args, int));
    case Length::Long: return va_arg(args, long);
    case Length::LongLong: return va_arg(args, long long);
    case Length::Size:
        // The signed counterpart of size_t (ssize_t) has the same width.
        return static_cast<int64_t>(va_arg(args, size_t));
    case Length::Max: return va_arg(args, intmax_t);
    case Length::PtrDiff: return va_arg(args, ptrdiff_t);
    case Length::Default: break;
    }
    return va_arg(args, int);
}

uint64_t read_unsigned(va_list& args, Length length)
{
    switch (length) {
    case Length::Char: return static_cast<unsigned char>(va_arg(args, unsigned int));
    case Length::Short: return static_cast<unsigned short>(va_arg(args, unsigned int));
    case Length::Long: return va_arg(args, unsigned long);
    case Length::LongLong: return va_arg(args, unsigned long long);
    case Length::Size: return va_arg(args, size_t);
    case Length::Max: return va_arg(args, uintmax_t);
    case Length::PtrDiff: return static_cast<uint64_t>(va_arg(args, ptrdiff_t));
    case Length::Default: break;
    }
    return va_arg(args, unsigned int);
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Parses a decimal field, saturating instead of overflowing on absurd input.
size_t parse_number(const char*& p)
{
    size_t value = 0;
    while (is_digit(*p)) {
        size_t digit = static_cast<size_t>(*p - '0');
        if (value > (SIZE_MAX - digit) / 10)
            value = SIZE_MAX;
        else
            value = value * 10 + digit;
        ++p;
    }
    return value;
}

// va_list is an array type on x86_64, so helpers take it by reference to a
// local copy (made with va_copy) rather than by value.
size_t format_impl(Writer& out, const char* fmt, va_list& args)
{
    const char* p = fmt;
    while (*p) {
        if (*p != '%') {
            const char* start = p;
            while (*p && *p != '%')
                ++p;
            out.write(start, static_cast<size_t>(p - start));
            continue;
        }
        const char* spec_start = p++;
        Spec spec;

        for (bool more = true; more;) {
            switch (*p) {
            case '-':
                spec.left_align = true;
                ++p;
                break;
            case '0':
                spec.zero_pad = true;
                ++p;
                break;
            case '+':
                spec.plus_sign = true;
                ++p;
                break;
            case ' ':
                spec.space_sign = true;
                ++p;
                break;
            case '#':
                spec.alternate = true;
                ++p;
                break;
            default: more = false; break;
            }
        }

        if (*p == '*') {
            int width = va_arg(args, int);
            if (width < 0) {
                spec.left_align = true;
                spec.width = static_cast<size_t>(-static_cast<int64_t>(width));
            } else {
                spec.width = static_cast<size_t>(width);
            }
            ++p;
        } else {
            spec.width = parse_number(p);
        }

        if (*p == '.') {
            ++p;
            spec.has_precision = true;
            if (*p == '*') {
                int precision = va_arg(args, int);
                // A negative precision is taken as if it were omitted.
                spec.has_precision = precision >= 0;
                spec.precision = precision >= 0 ? static_cast<size_t>(precision) : 0;
                ++p;
            } else {
                spec.precision = parse_number(p);
            }
        }

        switch (*p) {
        case 'h':
            ++p;
            spec.length = Length::Short;
            if (*p == 'h') {
                ++p;
                spec.length = Length::Char;
            }
            break;
        case 'l':
            ++p;
            spec.length = Length::Long;
            if (*p == 'l') {
                ++p;
                spec.length = Length::LongLong;
            }
            break;
        case 'z':
            ++p;
            spec.length = Length::Size;
            break;
        case 'j':
            ++p;
            spec.length = Length::Max;
            break;
        case 't':
            ++p;
            spec.length = Length::PtrDiff;
            break;
        default: break;
        }

        char conversion = *p;
        if (conversion == '\0') {
            // A format ending inside a conversion: show what was there.
            out.write(spec_start, static_cast<size_t>(p - spec_start));
            break;
        }
        ++p;

        switch (conversion) {
        case 'd':
        case 'i': {
            int64_t value = read_signed(args, spec.length);
            bool negative = value < 0;
            // Negate in unsigned arithmetic so INT64_MIN does not overflow.
            uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
            write_integer(out, spec, magnitude, negative, true, 10, false);
            break;
        }
        case 'u': write_integer(out, spec, read_unsigned(args, spec.length), false, false, 10, false); break;
        case 'x':
        case 'X':
            write_integer(out, spec, read_unsigned(args, spec.length), false, false, 16, conversion == 'X');
            break;
        case 'o': write_integer(out, spec, read_unsigned(args, spec.length), false, false, 8, false); break;
        case 'c': {
            char c = static_cast<char>(va_arg(args, int));
            write_padded(out, spec, nullptr, 0, 0, &c, 1, false);
            break;
        }
        case 's': {
            const char* s = va_arg(args, const char*);
            if (!s)
                s = "(null)";
            // With a precision the string need not be NUL-terminated.
            size_t length = spec.has_precision ? strnlen(s, spec.precision) : strlen(s);
            write_padded(out, spec, nullptr, 0, 0, s, length, false);
            break;
        }
        case 'p': {
            auto value = reinterpret_cast<uintptr_t>(va_arg(args, void*));
            Spec pointer_spec;
            pointer_spec.left_align = spec.left_align;
            pointer_spec.width = spec.width;
            pointer_spec.has_precision = true;
            pointer_spec.precision = 16;
            char prefix[2] = { '0', 'x' };
            char digits[16];
            for (int i = 15; i >= 0; --i) {
                digits[i] = "0123456789abcdef"[value & 0xf];
                value >>= 4;
            }
            write_padded(out, pointer_spec, prefix, 2, 0, digits, 16, false);
            break;
        }
        case '%': out.write("%", 1); break;
        default: out.write(spec_start, static_cast<size_t>(p - spec_start)); break;
        }
    }
    return out.total();
}

struct BufferSink {
    char* buffer;
    size_t size;
    size_t position;
};

void emit_to_buffer(void* ctx, const char* text, size_t length)
{
    auto* sink = static_cast<BufferSink*>(ctx);
    if (sink->size == 0)
        return;
    size_t room = sink->size - 1 - sink->position; // keep one byte for the NUL
    size_t n = min(room, length);
    memcpy(sink->buffer + sink->position, text, n);
    sink->position += n;
}

} // namespace

size_t vformat_to(FormatEmit emit, void* ctx, const char* fmt, va_list args)
{
    Writer out(emit, ctx);
    va_list copy;
    va_copy(copy, args);
    size_t total = format_impl(out, fmt, copy);
    va_end(copy);
    return total;
}

size_t format_to(FormatEmit emit, void* ctx, const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    size_t total = vformat_to(emit, ctx, fmt, args);
    va_end(args);
    return total;
}

size_t vformat(char* buffer, size_t size, const char* fmt, va_list args)
{
    BufferSink sink { buffer, size, 0 };
    size_t total = vformat_to(emit_to_buffer, &sink, fmt, args);
    if (size > 0)
        buffer[sink.position] = '\0';
    return total;
}

size_t format(char* buffer, size_t size, const char* fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    size_t total = vformat(buffer, size, fmt, args);
    va_end(args);
    return total;
}

} // namespace keel
