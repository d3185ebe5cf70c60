#include "debug/selftest.h"

#include "arch/context.h"
#include "arch/memory_layout.h"
#include "arch/paging.h"
#include "boot/params.h"
#include "console/console.h"
#include "debug/stress.h"
#include "debug/taint.h"
#include "device/resources.h"
#include "lib/base/string.h"
#include "lib/cmdline/cmdline.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/pmm.h"
#include "mm/vmalloc.h"
#include "sched/thread.h"
#include "sync/mutex.h"
#include "sync/spinlock.h"
#include "time/clock.h"

namespace keel {

namespace {

// Each fault lives in its own named, never-inlined function, so the boot
// test can check that the backtrace names it.
[[gnu::noinline]] void selftest_fault_null_dereference()
{
    volatile int* pointer = nullptr;
    *pointer = 42; // NOLINT(clang-analyzer-core.NullDereference): the fault under test
}

[[gnu::noinline]] void selftest_fault_write_rodata()
{
    static const int constant = 1;
    *const_cast<volatile int*>(&constant) = 2;
}

[[gnu::noinline]] void selftest_fault_invalid_opcode() { __builtin_trap(); }

[[gnu::noinline]] int selftest_fault_divide(int divisor)
{
    // Volatile on both sides: the compiler may neither fold the division
    // nor drop it as unused.
    volatile int hidden = divisor;
    static volatile int quotient;
    quotient = 100 / hidden; // NOLINT(clang-analyzer-core.DivideZero): the fault under test
    return quotient;
}

[[gnu::noinline]] uint64_t selftest_fault_stack_overflow(uint64_t depth)
{
    volatile char frame[512];
    frame[0] = char(depth);
    if (depth == ~0ull) // never: only here so the recursion is not provably endless
        return 0;
    return selftest_fault_stack_overflow(depth + 1) + frame[0];
}

// Code placed in a data page: calling it must fault (data is NX).
[[gnu::noinline]] void selftest_fault_execute_data()
{
    static uint8_t code[16] = { 0xc3 }; // ret
    auto function = reinterpret_cast<void (*)()>(reinterpret_cast<uintptr_t>(code));
    asm volatile("" : : "r"(function) : "memory"); // hide the cast's origin from the optimiser
    function();
}

// The value of a Result that holds an error: a trap, never a wrong value.
[[gnu::noinline]] int selftest_fault_result_of_error()
{
    volatile bool fail = true;
    Result<int> result = fail ? Result<int>(Error::EIO) : Result<int>(1);
    return result.value();
}

// MUST() of an error panics, naming the expression.
[[gnu::noinline]] int selftest_fault_must()
{
    volatile bool fail = true;
    return MUST(fail ? Result<int>(Error::ENOSPC) : Result<int>(1));
}

bool trigger_fault(const char* kind)
{
    add_taint(Taint::Test);
    if (strcmp(kind, "null") == 0)
        selftest_fault_null_dereference();
    else if (strcmp(kind, "write") == 0)
        selftest_fault_write_rodata();
    else if (strcmp(kind, "ud") == 0)
        selftest_fault_invalid_opcode();
    else if (strcmp(kind, "divide") == 0)
        selftest_fault_divide(0);
    else if (strcmp(kind, "stack") == 0)
        selftest_fault_stack_overflow(0);
    else if (strcmp(kind, "nx") == 0)
        selftest_fault_execute_data();
    else if (strcmp(kind, "result") == 0)
        selftest_fault_result_of_error();
    else if (strcmp(kind, "must") == 0)
        selftest_fault_must();
    else
        return false;
    return true;
}

int worker(void* argument) { return int(reinterpret_cast<uintptr_t>(argument) & 0xffff); }

// Create `count` threads, then join them all, checking each exit code.
int selftest_threads(uint64_t count)
{
    constexpr uint64_t kMaxThreads = 4096;
    if (count == 0 || count > kMaxThreads) {
        console_print("selftest threads: count must be 1..%llu\n", (unsigned long long)kMaxThreads);
        return 1;
    }
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers, so sizeof a pointer is meant
    auto** threads = static_cast<Thread**>(kzalloc(sizeof(Thread*) * count));
    if (!threads) {
        console_print("selftest threads: out of memory\n");
        return 1;
    }
    size_t baseline = thread_count();
    uint64_t start = time::monotonic_ns();
    uint64_t created = 0;
    for (; created < count; created++) {
        auto thread = thread_create("selftest", worker, reinterpret_cast<void*>(uintptr_t(created)));
        if (thread.is_error()) {
            console_print(
                "selftest threads: create #%llu failed: %s\n", (unsigned long long)created, error_name(thread.error()));
            break;
        }
        threads[created] = thread.value();
    }
    uint64_t bad = 0;
    for (uint64_t i = 0; i < created; i++) {
        if (thread_join(threads[i]) != int(i & 0xffff))
            bad++;
    }
    kfree(threads);
    uint64_t elapsed_us = (time::monotonic_ns() - start) / 1000;
    bool ok = created == count && bad == 0 && thread_count() == baseline;
    console_print("selftest threads: created %llu joined %llu bad-exit %llu leftover %zu in %llu us: %s\n",
        (unsigned long long)created, (unsigned long long)created, (unsigned long long)bad, thread_count() - baseline,
        (unsigned long long)elapsed_us, ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

constexpr LockClass kSelfTestMutexClass { "selftest mutex", LockRank::SelfTestMutex, true };

struct MutexTest {
    Mutex mutex { kSelfTestMutexClass };
    uint64_t counter = 0;
    uint64_t inside = 0;     // threads inside the critical section
    uint64_t violations = 0; // times two were inside at once
    uint64_t rounds = 0;
};

int mutex_worker(void* argument)
{
    auto* test = static_cast<MutexTest*>(argument);
    for (uint64_t i = 0; i < test->rounds; i++) {
        MutexGuard guard(test->mutex);
        if (++test->inside != 1)
            test->violations++;
        uint64_t value = test->counter;
        if (i % 8 == 0)
            thread_yield(); // invite contention inside the critical section
        test->counter = value + 1;
        test->inside--;
    }
    return 0;
}

// Several threads increment a counter under a mutex, yielding inside the
// critical section: no increment may be lost and no two may overlap.
int selftest_mutex()
{
    constexpr int kThreads = 8;
    static MutexTest test;
    test.counter = test.inside = test.violations = 0;
    test.rounds = 500;
    Thread* threads[kThreads];
    int created = 0;
    for (; created < kThreads; created++) {
        auto thread = thread_create("mutex-test", mutex_worker, &test);
        if (thread.is_error())
            break;
        threads[created] = thread.value();
    }
    for (int i = 0; i < created; i++)
        thread_join(threads[i]);
    bool ok = created == kThreads && test.counter == kThreads * test.rounds && test.violations == 0;
    console_print("selftest mutex: %d threads counter %llu (expected %llu) overlaps %llu: %s\n", created,
        (unsigned long long)test.counter, (unsigned long long)kThreads * test.rounds,
        (unsigned long long)test.violations, ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

int fpu_worker(void* argument)
{
    uint64_t pattern = reinterpret_cast<uintptr_t>(argument);
    arch::fpu_test_load(pattern);
    for (int i = 0; i < 200; i++) {
        if (i % 2)
            thread_yield();
        else
            thread_sleep_ns(100000);
        if (!arch::fpu_test_check(pattern))
            return 1;
    }
    return 0;
}

// Threads fill the SSE registers with their own patterns and check them
// across yields, sleeps and preemption; then a device interrupt handler that
// fills them must leave the interrupted thread's as they were.
int selftest_fpu()
{
    constexpr int kThreads = 4;
    Thread* threads[kThreads];
    int created = 0;
    for (; created < kThreads; created++) {
        uint64_t pattern = 0x1111111111111111ull * uint64_t(created + 1);
        auto thread = thread_create("fpu-test", fpu_worker, reinterpret_cast<void*>(uintptr_t(pattern)));
        if (thread.is_error())
            break;
        threads[created] = thread.value();
    }
    int corrupted = 0;
    for (int i = 0; i < created; i++)
        corrupted += thread_join(threads[i]);
    bool handler_kept = irq_handlers_keep_fpu_state(0x0123456789abcdefull);
    bool ok = created == kThreads && corrupted == 0 && handler_kept;
    console_print("selftest fpu: %d threads, %d saw their SSE registers change; an interrupt handler's use of them "
                  "%s the interrupted thread's: %s\n",
        created, corrupted, handler_kept ? "kept from" : "CHANGED", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

int selftest_sleep(uint64_t ms)
{
    if (ms == 0 || ms > 60000) {
        console_print("selftest sleep: duration must be 1..60000 ms\n");
        return 1;
    }
    uint64_t start = time::monotonic_ns();
    thread_sleep_ms(ms);
    uint64_t slept_us = (time::monotonic_ns() - start) / 1000;
    console_print("selftest sleep: requested %llu us slept %llu us\n", (unsigned long long)ms * 1000,
        (unsigned long long)slept_us);
    return 0;
}

// Allocate every free page (largest blocks first), then free them all: the
// free page count must come back exactly.
int selftest_exhaust()
{
    struct Block {
        Block* next;
    };
    size_t before = pmm_stats().free_pages;
    Block* blocks = nullptr;
    size_t pages = 0;
    for (int order = 10; order >= 0; order--) {
        for (;;) {
            auto phys = alloc_pages(unsigned(order));
            if (phys.is_error())
                break;
            auto* block = static_cast<Block*>(arch::phys_to_virt(phys.value()));
            block->next = blocks;
            blocks = block;
            pages += size_t(1) << order;
        }
    }
    size_t at_exhaustion = pmm_stats().free_pages;
    bool exhausted = alloc_pages(0).is_error();
    while (blocks) {
        Block* next = blocks->next;
        free_pages(arch::virt_to_phys_direct(blocks));
        blocks = next;
    }
    size_t after = pmm_stats().free_pages;
    bool ok = exhausted && at_exhaustion == 0 && after == before && pages == before;
    console_print("selftest exhaust: free before %zu allocated %zu free at exhaustion %zu free after %zu: %s\n", before,
        pages, at_exhaustion, after, ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

// selftest park N: up to N threads that sleep until `selftest unpark`,
// created until memory runs out if it does: how the exhaustion tests fill
// memory with threads, and then check that threads exit, and give their
// stacks back, with no memory left at all.
WaitQueue g_park_queue;
bool g_unparked = false;
uint64_t g_parked = 0; // threads not yet gone

int parked_thread(void*)
{
    wait_event(g_park_queue, __atomic_load_n(&g_unparked, __ATOMIC_ACQUIRE));
    __atomic_sub_fetch(&g_parked, 1, __ATOMIC_RELEASE);
    return 0;
}

int selftest_park(uint64_t count)
{
    constexpr uint64_t kMaxParked = 100000;
    if (count == 0 || count > kMaxParked) {
        console_print("selftest park: count must be 1..%llu\n", (unsigned long long)kMaxParked);
        return 1;
    }
    if (__atomic_load_n(&g_parked, __ATOMIC_ACQUIRE) != 0) {
        console_print("selftest park: threads are parked already (selftest unpark first)\n");
        return 1;
    }
    __atomic_store_n(&g_unparked, false, __ATOMIC_RELEASE);
    uint64_t created = 0;
    Error error = Error(0);
    for (; created < count; created++) {
        auto thread = thread_create("parked", parked_thread, nullptr);
        if (thread.is_error()) {
            error = thread.error();
            break;
        }
        __atomic_add_fetch(&g_parked, 1, __ATOMIC_RELEASE);
        thread_detach(thread.value());
    }
    if (error != Error(0))
        console_print("selftest park: %llu threads parked, then %s\n", (unsigned long long)created, error_name(error));
    else
        console_print("selftest park: %llu threads parked\n", (unsigned long long)created);
    return 0;
}

int selftest_unpark()
{
    __atomic_store_n(&g_unparked, true, __ATOMIC_RELEASE);
    g_park_queue.wake_all();
    // Each exits as it runs; the thread switched to next frees it.
    uint64_t start = time::monotonic_ns();
    while (__atomic_load_n(&g_parked, __ATOMIC_ACQUIRE) != 0 && time::monotonic_ns() - start < 60000000000ull)
        thread_sleep_ms(1);
    uint64_t left = __atomic_load_n(&g_parked, __ATOMIC_ACQUIRE);
    console_print("selftest unpark: %llu threads left: %s\n", (unsigned long long)left, left ? "FAIL" : "PASS");
    return left ? 1 : 0;
}

struct RaceTest {
    uint64_t areas; // per thread and round
    uint64_t rounds;
    uint64_t lost;   // areas whose page was not mapped when checked
    uint64_t wrong;  // areas that did not read back what was written
    uint64_t failed; // vmalloc failures
};

bool is_mapped(const void* address)
{
    uint64_t phys;
    unsigned flags;
    return arch::translate(reinterpret_cast<uint64_t>(address), phys, flags);
}

// One thread of `selftest race vmalloc`: allocate many one-page areas (so
// the threads' areas interleave and keep entering 2 MiB regions that need a
// new page table), check that every page is mapped, write and read a
// pattern through each, free them all; repeat.
int vmalloc_race_worker(void* argument)
{
    auto* test = static_cast<RaceTest*>(argument);
    auto** areas = static_cast<uint64_t**>(kzalloc(sizeof(uint64_t*) * test->areas));
    if (!areas) {
        __atomic_add_fetch(&test->failed, 1, __ATOMIC_RELAXED);
        return 1;
    }
    uint64_t tag = uint64_t(current_thread()->id) << 32;
    for (uint64_t round = 0; round < test->rounds; round++) {
        uint64_t count = 0;
        for (; count < test->areas; count++) {
            auto area = vmalloc(arch::kPageSize, arch::kPageWrite);
            if (area.is_error()) {
                __atomic_add_fetch(&test->failed, 1, __ATOMIC_RELAXED);
                break;
            }
            areas[count] = static_cast<uint64_t*>(area.value());
        }
        for (uint64_t i = 0; i < count; i++) {
            if (is_mapped(areas[i]))
                *areas[i] = tag | i;
        }
        thread_yield();
        for (uint64_t i = 0; i < count; i++) {
            // A lost mapping would fault: check it is there before reading.
            if (!is_mapped(areas[i]))
                __atomic_add_fetch(&test->lost, 1, __ATOMIC_RELAXED);
            else if (*areas[i] != (tag | i))
                __atomic_add_fetch(&test->wrong, 1, __ATOMIC_RELAXED);
            vfree(areas[i]);
        }
    }
    kfree(areas);
    return 0;
}

// Threads map and unmap kernel pages at once with the stress points armed:
// a page-table update that is not atomic with respect to other threads
// loses mappings here. Pages and vmalloc areas must return to the baseline.
int selftest_vmalloc_race(uint64_t threads_wanted)
{
    constexpr uint64_t kMaxThreads = 16;
    if (threads_wanted < 2 || threads_wanted > kMaxThreads) {
        console_print("selftest race vmalloc: threads must be 2..%llu\n", (unsigned long long)kMaxThreads);
        return 1;
    }
    static RaceTest test;
    test = { 200, 3, 0, 0, 0 };
    size_t areas_before = vmalloc_area_count();
    Thread* threads[kMaxThreads];
    uint64_t created = 0;
    debug::arm_stress_points(true);
    for (; created < threads_wanted; created++) {
        auto thread = thread_create("vmalloc-race", vmalloc_race_worker, &test);
        if (thread.is_error())
            break;
        threads[created] = thread.value();
    }
    for (uint64_t i = 0; i < created; i++)
        thread_join(threads[i]);
    debug::arm_stress_points(false);
    size_t areas_after = vmalloc_area_count();
    bool ok = created == threads_wanted && test.lost == 0 && test.wrong == 0 && test.failed == 0
        && areas_after == areas_before;
    console_print("selftest race vmalloc: %llu threads x %llu areas x %llu rounds: lost %llu wrong %llu failed %llu "
                  "areas %zu -> %zu: %s\n",
        (unsigned long long)created, (unsigned long long)test.areas, (unsigned long long)test.rounds,
        (unsigned long long)test.lost, (unsigned long long)test.wrong, (unsigned long long)test.failed, areas_before,
        areas_after, ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}

// Take two ranked spinlocks in the wrong order: the lock-order checker must
// panic, naming both locks and where each was taken.
[[gnu::noinline]] void selftest_lock_order_take_inner(Spinlock& inner, Spinlock& outer)
{
    SpinlockGuard inner_guard(inner);
    SpinlockGuard outer_guard(outer);
}

// The same spinlock twice, and a mutex under a spinlock: each must panic
// before the deadlock (or the sleep with interrupts off) it would be. (The
// compiler's analysis sees the first; it is what this tests at run time.)
[[gnu::noinline]] void selftest_lock_order_take_twice(Spinlock& lock) NO_THREAD_SAFETY_ANALYSIS
{
    SpinlockGuard first(lock);
    SpinlockGuard second(lock);
}

[[gnu::noinline]] void selftest_lock_order_sleep_under_spinlock(Spinlock& lock, Mutex& mutex)
{
    SpinlockGuard guard(lock);
    MutexGuard sleeping(mutex);
}

int selftest_lock_order(const char* variant)
{
    static constexpr LockClass outer_class { "selftest outer", LockRank::SelfTestOuter, false };
    static constexpr LockClass inner_class { "selftest inner", LockRank::SelfTestInner, false };
    static Spinlock outer { outer_class };
    static Spinlock inner { inner_class };
    static Mutex mutex { kSelfTestMutexClass };
    {
        // The right order first: no complaint.
        MutexGuard sleeping(mutex);
        SpinlockGuard outer_guard(outer);
        SpinlockGuard inner_guard(inner);
    }
    if (!kLockOrderChecks) {
        console_print("selftest lockorder: the lock_order_checks build option is off\n");
        return 1;
    }
    add_taint(Taint::Test);
    if (!variant)
        selftest_lock_order_take_inner(inner, outer);
    else if (strcmp(variant, "twice") == 0)
        selftest_lock_order_take_twice(outer);
    else if (strcmp(variant, "sleep") == 0)
        selftest_lock_order_sleep_under_spinlock(outer, mutex);
    else {
        console_print("selftest lockorder: unknown variant '%s' (twice, sleep)\n", variant);
        return 1;
    }
    console_print("selftest lockorder: the wrong acquisition went unnoticed: FAIL\n");
    return 1;
}

int selftest_command(int argc, char** argv)
{
    if (argc < 2) {
        console_print("usage: selftest threads N | sleep MS | exhaust | park N | unpark | mutex | fpu | lockorder "
                      "[twice|sleep] | "
                      "race vmalloc [THREADS] | fault null|write|ud|divide|stack|nx|result|must\n");
        return 1;
    }
    const char* what = argv[1];
    if (strcmp(what, "exhaust") == 0)
        return selftest_exhaust();
    if (strcmp(what, "mutex") == 0)
        return selftest_mutex();
    if (strcmp(what, "fpu") == 0)
        return selftest_fpu();
    if (strcmp(what, "lockorder") == 0)
        return selftest_lock_order(argc > 2 ? argv[2] : nullptr);
    if (strcmp(what, "unpark") == 0)
        return selftest_unpark();
    if (strcmp(what, "race") == 0 && argc > 2 && strcmp(argv[2], "vmalloc") == 0) {
        uint64_t threads = 4;
        if (argc > 3) {
            auto number = parse_uint(argv[3], strlen(argv[3]));
            if (number.is_error()) {
                console_print("selftest race vmalloc: '%s' is not a number\n", argv[3]);
                return 1;
            }
            threads = number.value();
        }
        return selftest_vmalloc_race(threads);
    }
    if (strcmp(what, "fault") == 0 && argc > 2) {
        if (!trigger_fault(argv[2]))
            console_print("selftest fault: unknown kind '%s'\n", argv[2]);
        return 1;
    }
    if (argc > 2) {
        auto number = parse_uint(argv[2], strlen(argv[2]));
        if (number.is_error()) {
            console_print("selftest %s: '%s' is not a number\n", what, argv[2]);
            return 1;
        }
        if (strcmp(what, "threads") == 0)
            return selftest_threads(number.value());
        if (strcmp(what, "sleep") == 0)
            return selftest_sleep(number.value());
        if (strcmp(what, "park") == 0)
            return selftest_park(number.value());
    }
    console_print("selftest: unknown test '%s'\n", what);
    return 1;
}

} // namespace

void run_boot_test_hooks()
{
    const char* kind = kernel_params().test_fault;
    if (!kind)
        return;
    log_warn("test_fault=%s: faulting deliberately", kind);
    if (!trigger_fault(kind))
        log_err("test_fault=%s: unknown kind (null, write, ud, divide, stack); ignored", kind);
}

KEEL_CONSOLE_COMMAND(selftest, "selftest",
    "threads N|sleep MS|exhaust|park N|unpark|mutex|fpu|lockorder|race vmalloc [N]|fault KIND", "in-kernel self tests",
    selftest_command);

} // namespace keel
