/* vendor_c: an out-of-tree module in C, built from the installed SDK alone
 * (Makefile: pkg-config keel-sdk, clang, ld.lld, keel-abi, kmodpost,
 * kmod-sign). It exports acme_blocks_sum (acme_blocks.toml) to other
 * modules, vendor_rust among them. */
#include <keel/module.h>

#include "vendor_c.h"

KEEL_MODULE_NAME("vendor_c");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("Example Vendor");
KEEL_MODULE_DESCRIPTION("An out-of-tree driver in C");
KEEL_MODULE_VERSION("2.3");
KEEL_MODULE_PARAM(uint, blocks, 4, "how many blocks to allocate");

static uint64_t* table;

KEEL_EXPORT uint64_t acme_blocks_sum(uint64_t count)
{
    uint64_t sum = 0;
    for (uint64_t i = 0; i < count && i < keel_param_blocks; i++)
        sum += table[i];
    return sum;
}

static int vendor_c_init(void)
{
    table = keel_zalloc(keel_param_blocks * sizeof(*table));
    if (!table)
        return -KEEL_ENOMEM;
    for (uint64_t i = 0; i < keel_param_blocks; i++)
        table[i] = (i + 1) * 10;
    keel_logf(KEEL_LOG_INFO, "vendor_c: %llu blocks, sum %llu", (unsigned long long)keel_param_blocks,
        (unsigned long long)acme_blocks_sum(keel_param_blocks));
    return 0;
}

static void vendor_c_exit(void)
{
    keel_free(table);
    keel_log(KEEL_LOG_INFO, "vendor_c: unloaded cleanly");
}

KEEL_MODULE_INIT(vendor_c_init);
KEEL_MODULE_EXIT(vendor_c_exit);
