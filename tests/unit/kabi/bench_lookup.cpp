// Host benchmark (not a test; scripts/bench runs it): lookups per second in
// export tables of 100 and 10,000 symbols, hashed (KabiTable) against a
// linear scan, to show the lookup cost does not grow with the table.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "lib/kabi/kabi_table.h"

using namespace keel;

namespace {

double lookups_per_second(size_t count, bool hashed)
{
    if (count == 0)
        return 0;
    std::vector<std::string> names;
    for (size_t i = 0; i < count; ++i)
        names.push_back("keel_symbol_" + std::to_string(i));
    std::vector<KabiExport> exports;
    for (size_t i = 0; i < count; ++i)
        exports.push_back({ names[i].c_str(), "KABI_BENCH_1.0", i, kabi_key(names[i].c_str(), "KABI_BENCH_1.0"),
            reinterpret_cast<const void*>(i + 1) });
    std::vector<uint32_t> slots(KabiTable::slot_count_for(count));
    if (KabiTable::build_index(exports.data(), count, slots.data(), slots.size()).is_error())
        return 0;
    KabiNode node { "KABI_BENCH_1.0", nullptr, "bench" };
    KabiTable table(exports.data(), count, slots.data(), slots.size(), &node, 1);

    constexpr size_t kLookups = 200000;
    volatile uintptr_t sink = 0;
    auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < kLookups; ++i) {
        const char* name = names[(i * 7919) % count].c_str();
        if (hashed) {
            sink = sink + reinterpret_cast<uintptr_t>(table.find(name, "KABI_BENCH_1.0")->address);
        } else {
            for (const KabiExport& entry : exports) {
                if (strcmp(entry.name, name) == 0 && strcmp(entry.node, "KABI_BENCH_1.0") == 0) {
                    sink = sink + reinterpret_cast<uintptr_t>(entry.address);
                    break;
                }
            }
        }
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return kLookups / seconds;
}

} // namespace

int main()
{
    for (size_t count : { size_t(100), size_t(10000) }) {
        std::vector<double> hashed, linear;
        for (int run = 0; run < 5; ++run) {
            hashed.push_back(lookups_per_second(count, true));
            if (count <= 10000 && run < 3)
                linear.push_back(lookups_per_second(count, false));
        }
        std::sort(hashed.begin(), hashed.end());
        std::sort(linear.begin(), linear.end());
        printf("export table of %5zu symbols: hashed %.1f M lookups/s, linear scan %.3f M lookups/s (%.0f x)\n", count,
            hashed[hashed.size() / 2] / 1e6, linear[linear.size() / 2] / 1e6,
            hashed[hashed.size() / 2] / linear[linear.size() / 2]);
    }
    return 0;
}
