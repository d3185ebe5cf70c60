/*
 * Module spinlocks (keel_spin_lock), checked on init. Interrupts stay off
 * while any of a thread's module spinlocks is held, whichever is released
 * first: with `first` and `second` taken in that order and `first`
 * released first, a third lock taken then finds interrupts off; once
 * `second` goes too, a fourth finds them on again. Reports one line; a
 * failure fails the load. With sleep=1 it then sleeps holding a spinlock,
 * which the kernel stops at once, naming the thread, instead of hanging on
 * the next thread that spins on the lock; with mutex=1 it locks a mutex no
 * one holds, which would not sleep this time and is stopped all the same.
 */
#include <keel/module.h>

KEEL_MODULE_NAME("spintest");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_DESCRIPTION("Tests keel_spin_lock's interrupt state and sleeping under a spinlock");
KEEL_MODULE_PARAM(bool, sleep, 0, "sleep holding a spinlock (the kernel stops)");
KEEL_MODULE_PARAM(bool, mutex, 0, "lock a free mutex holding a spinlock (the kernel stops)");

static keel_spinlock first;
static keel_spinlock second;
static keel_spinlock probe;

/* Whether interrupts were on when a lock is taken, as keel_spin_lock says. */
static uint64_t interrupts_on(void)
{
    uint64_t state = keel_spin_lock(&probe);
    keel_spin_unlock(&probe, state);
    return state;
}

static int spintest_init(void)
{
    uint64_t before = interrupts_on();
    uint64_t first_state = keel_spin_lock(&first);
    uint64_t second_state = keel_spin_lock(&second);
    keel_spin_unlock(&first, first_state);
    uint64_t between = interrupts_on();
    keel_spin_unlock(&second, second_state);
    uint64_t after = interrupts_on();
    keel_logf(KEEL_LOG_INFO, "spintest: interrupts on before %llu, with only the second held %llu, after %llu",
        (unsigned long long)before, (unsigned long long)between, (unsigned long long)after);
    if (before != 1 || between != 0 || after != 1)
        return -KEEL_EIO;
    if (keel_param_mutex) {
        keel_mutex* free_mutex;
        if (keel_mutex_create(&free_mutex))
            return -KEEL_ENOMEM;
        uint64_t state = keel_spin_lock(&first);
        keel_log(KEEL_LOG_INFO, "spintest: locking a mutex holding a spinlock");
        keel_mutex_lock(free_mutex);
        keel_mutex_unlock(free_mutex);
        keel_spin_unlock(&first, state);
        keel_mutex_destroy(free_mutex);
    }
    if (keel_param_sleep) {
        uint64_t state = keel_spin_lock(&first);
        keel_log(KEEL_LOG_INFO, "spintest: sleeping holding a spinlock");
        keel_sleep_ns(1000000);
        keel_spin_unlock(&first, state);
    }
    return 0;
}

static void spintest_exit(void) { }

KEEL_MODULE_INIT(spintest_init);
KEEL_MODULE_EXIT(spintest_exit);
