#include "lib/devmatch/of.h"

#include "lib/base/string.h"
#include "lib/devmatch/text.h"

namespace keel::devmatch {

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

bool equal_ignoring_case(const char* a, const char* b)
{
    for (; *a && *b; ++a, ++b) {
        if (lower(*a) != lower(*b))
            return false;
    }
    return *a == *b;
}

// The node's name without a path before it or a unit address after it.
struct BaseName {
    const char* start;
    size_t length;
    explicit BaseName(const char* name)
    {
        start = name ? name : "";
        for (const char* p = start; *p; ++p) {
            if (*p == '/')
                start = p + 1;
        }
        length = 0;
        while (start[length] && start[length] != '@')
            ++length;
    }
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

} // namespace

Result<void> check_of_node(const OfNode& node, Diagnostic* diagnostic)
{
    if (node.compatible_size == 0)
        return {};
    if (!node.compatible) {
        diagnose(diagnostic, "compatible: %zu bytes announced, none given", node.compatible_size);
        return Err(Error::EINVAL);
    }
    if (node.compatible[node.compatible_size - 1] != '\0') {
        diagnose(diagnostic, "compatible: the last of its %zu bytes is not a NUL", node.compatible_size);
        return Err(Error::EINVAL);
    }
    return {};
}

int64_t of_match_score(const OfMatch& entry, const OfNode& node)
{
    int64_t score = 0;
    if (entry.compatible && entry.compatible[0]) {
        size_t index = 0;
        for (size_t offset = 0; offset < node.compatible_size; ++index) {
            const char* string = node.compatible + offset;
            if (equal_ignoring_case(string, entry.compatible)) {
                score = int64_t(0x3fffffff) - int64_t(index << 2);
                break;
            }
            offset += strlen(string) + 1;
        }
        if (score <= 0)
            return 0;
    }
    if (entry.type && entry.type[0]) {
        if (!node.type || strcmp(node.type, entry.type) != 0)
            return 0;
        score += 2;
    }
    if (entry.name && entry.name[0]) {
        BaseName base(node.name);
        if (strlen(entry.name) != base.length || strncmp(base.start, entry.name, base.length) != 0)
            return 0;
        score += 1;
    }
    return score;
}

Result<size_t> of_match_table(const OfMatch* table, size_t count, const OfNode& node)
{
    TRY(check_of_node(node));
    int64_t best_score = 0;
    size_t best = 0;
    for (size_t i = 0; i < count; ++i) {
        int64_t score = of_match_score(table[i], node);
        if (score > best_score) {
            best_score = score;
            best = i;
        }
    }
    if (best_score == 0)
        return Err(Error::ENOENT);
    return best;
}

Result<size_t> format_of_modalias(const OfNode& node, char* buffer, size_t size, Diagnostic* diagnostic)
{
    TRY(check_of_node(node, diagnostic));
    BaseName base(node.name);
    TextBuffer text(buffer, size);
    text.append("of:N%.*sT%s", int(base.length), base.start, node.type ? node.type : "(null)");
    for (size_t offset = 0; offset < node.compatible_size;) {
        const char* string = node.compatible + offset;
        size_t length = strlen(string);
        text.append_char('C');
        for (size_t i = 0; i < length; ++i)
            text.append_char(string[i] == ' ' ? '_' : string[i]);
        offset += length + 1;
    }
    return text.finish();
}

Result<void> format_of_aliases(const OfMatch& entry, char* first, size_t first_size, char* second, size_t second_size)
{
    const char* name = entry.name ? entry.name : "";
    const char* type = entry.type ? entry.type : "";
    const char* compatible = entry.compatible ? entry.compatible : "";
    TextBuffer text(first, first_size);
    text.append("of:N%sT%s", name[0] ? name : "*", type[0] ? type : "*");
    if (compatible[0])
        text.append("%sC%s", type[0] ? "*" : "", compatible);
    for (size_t i = 0; i < text.length(); ++i) {
        if (is_space(text.data()[i]))
            text.data()[i] = '_';
    }
    TRY(text.finish());

    TextBuffer wide(second, second_size);
    wide.append("%sC", first);
    wide.add_wildcard();
    TRY(wide.finish());
    return {};
}

} // namespace keel::devmatch
