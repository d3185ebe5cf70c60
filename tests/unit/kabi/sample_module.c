/* A C module built against the SDK headers and the stub libkeel.so: it
 * compiles as C11 -pedantic, freestanding, and is what the kmodpost and
 * modinfo tests inspect. It is never loaded here. */
#include <keel/keel.h>
#include <keel/module.h>

KEEL_MODULE_NAME("sample");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel authors");
KEEL_MODULE_DESCRIPTION("ABI test module");
KEEL_MODULE_VERSION("1.2");
KEEL_MODULE_PARAM(bool, verbose, 1, "log more");
KEEL_MODULE_PARAM(int, repeat, -3, "how many times");
KEEL_MODULE_PARAM(uint, limit, 99, "upper bound");
KEEL_MODULE_PARAM_STRING(who, 32, "world", "whom to greet");

struct big {
    uint64_t words[32];
};

static keel_spinlock lock;
static keel_mutex* mutex;

static int32_t worker(void* arg)
{
    struct big* copy = (struct big*)arg;
    return (int32_t)copy->words[3];
}

/* Exported to other modules. */
KEEL_EXPORT int sample_add(int a, int b);
int sample_add(int a, int b) { return a + b; }

static int sample_init(void)
{
    struct big a = { { 0 } };
    struct big* b = (struct big*)keel_zalloc(sizeof(struct big));
    keel_thread* thread = NULL;
    int32_t code = 0;
    uint64_t irq;
    if (!b)
        return -KEEL_ENOMEM;
    *b = a; /* a struct copy: the compiler may call memcpy */
    irq = keel_spin_lock(&lock);
    keel_spin_unlock(&lock, irq);
    if (keel_mutex_create(&mutex) != 0)
        return -KEEL_ENOMEM;
    keel_mutex_lock(mutex);
    keel_mutex_unlock(mutex);
    if (keel_thread_create("sample", worker, b, &thread) == 0)
        keel_thread_join(thread, &code);
    keel_logf(KEEL_LOG_INFO, "hello %s x%lld (%d) at %llu\n", keel_param_who, (long long)keel_param_repeat, (int)code,
        (unsigned long long)keel_monotonic_ns());
    if (keel_param_verbose)
        keel_log(KEEL_LOG_DEBUG, "verbose\n");
    keel_free(b);
    return keel_add_taint(KEEL_TAINT_TEST);
}

static void sample_exit(void) { keel_mutex_destroy(mutex); }

KEEL_MODULE_INIT(sample_init);
KEEL_MODULE_EXIT(sample_exit);
