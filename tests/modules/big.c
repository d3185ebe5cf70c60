/* big: a module with 1,002 relocations, for scripts/bench: insmod latency
 * and signature checking of a large module. Its file is exactly the size of
 * the Linux module it is compared with on each architecture, fat.ko (186 KiB
 * on x86_64, 140 KiB on AArch64): code, a table of pointers, and a section
 * that is never loaded to make up the size (tests/modules/meson.build).
 *
 * Like fat.ko's, its init does little: a filesystem registers itself and
 * returns, it does not run all its code. `check=1` makes init call every
 * function through the relocated table instead, which the boot tests use
 * to prove each relocation landed. */
#include <keel/module.h>

KEEL_MODULE_NAME("big");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("A large module for the benchmarks");
KEEL_MODULE_PARAM(bool, check, 0, "call all 1,000 functions and log their checksum");

/* 1,000 small functions and a table pointing at each of them, written as
 * macros so the file stays short. */
/* clang-format off */
#define ONE(n) static int64_t f##n(int64_t x) { return x * ((n) + 1) + (n); }
#define TEN(n) ONE(n##0) ONE(n##1) ONE(n##2) ONE(n##3) ONE(n##4) ONE(n##5) ONE(n##6) ONE(n##7) ONE(n##8) ONE(n##9)
#define HUNDRED(n) TEN(n##0) TEN(n##1) TEN(n##2) TEN(n##3) TEN(n##4) TEN(n##5) TEN(n##6) TEN(n##7) TEN(n##8) TEN(n##9)
HUNDRED(1) HUNDRED(2) HUNDRED(3) HUNDRED(4) HUNDRED(5)
HUNDRED(6) HUNDRED(7) HUNDRED(8) HUNDRED(9) HUNDRED(10)

#define REF(n) f##n,
#define REF10(n) REF(n##0) REF(n##1) REF(n##2) REF(n##3) REF(n##4) REF(n##5) REF(n##6) REF(n##7) REF(n##8) REF(n##9)
#define REF100(n) REF10(n##0) REF10(n##1) REF10(n##2) REF10(n##3) REF10(n##4) \
    REF10(n##5) REF10(n##6) REF10(n##7) REF10(n##8) REF10(n##9)

/* A pointer per function in writable data: one R_X86_64_RELATIVE each. */
static int64_t (*table[])(int64_t) = {
    REF100(1) REF100(2) REF100(3) REF100(4) REF100(5)
    REF100(6) REF100(7) REF100(8) REF100(9) REF100(10)
};
/* clang-format on */

static int big_init(void)
{
    if (!keel_param_check)
        return 0;
    int64_t sum = 0;
    for (unsigned i = 0; i < sizeof(table) / sizeof(table[0]); i++)
        sum += table[i](1);
    keel_logf(KEEL_LOG_INFO, "big: %u functions, checksum %lld", (unsigned)(sizeof(table) / sizeof(table[0])),
        (long long)sum);
    return 0;
}

KEEL_MODULE_INIT(big_init);
