// Fuzzes the command line parser: the boot loader's line is input we do
// not control. Checks structural guarantees on top of the sanitizers.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "lib/cmdline/cmdline.h"

using namespace keel;

namespace {

void ignore_issue(void* ctx, CmdlineIssue, const char* key, const char* value, const char* message)
{
    // Touch the strings so ASan checks they are valid.
    auto* total = static_cast<size_t*>(ctx);
    *total += strlen(key) + (value ? strlen(value) : 0) + strlen(message);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // The parser works in place on a NUL-terminated copy.
    std::vector<char> line(data, data + size);
    line.push_back('\0');
    std::vector<char> original = line;

    CmdlineParser parser(line.data());
    CmdlineParam param;
    size_t params = 0;
    while (parser.next(param)) {
        if (strlen(param.key) != param.key_len)
            abort();
        if (param.has_value != (param.value != nullptr))
            abort();
        if (param.has_value && strlen(param.value) != param.value_len)
            abort();
        if (param.key < line.data() || param.key + param.key_len >= line.data() + line.size())
            abort();
        (void)parse_int(param.key, param.key_len);
        (void)parse_uint(param.key, param.key_len);
        (void)parse_bool(param.key, param.key_len);
        if (param.has_value) {
            (void)parse_int(param.value, param.value_len);
            (void)parse_bool(param.value, param.value_len);
        }
        if (++params > size + 1)
            abort(); // every parameter consumes input
    }
    if (char* init = parser.init_args()) {
        const char* words[8];
        auto count = split_words(init, words, 8);
        if (count.is_ok()) {
            if (count.value() >= 8 || words[count.value()] != nullptr)
                abort();
            for (size_t i = 0; i < count.value(); ++i)
                (void)strlen(words[i]);
        }
    }

    int64_t loglevel = 0;
    int64_t panic = 0;
    uint64_t mem = 0;
    bool nullfs = false;
    bool sig = false;
    const char* rdinit = nullptr;
    const KernelParamSpec specs[] = {
        { "loglevel", KernelParamSpec::Int, &loglevel, "" },
        { "panic", KernelParamSpec::Int, &panic, "" },
        { "mem", KernelParamSpec::UInt, &mem, "" },
        { "nullfs_rootfs", KernelParamSpec::Flag, &nullfs, "" },
        { "module.sig_enforce", KernelParamSpec::Bool, &sig, "" },
        { "rdinit", KernelParamSpec::String, &rdinit, "" },
    };
    size_t total = 0;
    CmdlineReporter reporter { ignore_issue, &total };
    apply_cmdline(original.data(), specs, sizeof(specs) / sizeof(specs[0]), &reporter);
    if (rdinit)
        (void)strlen(rdinit);
    return 0;
}
