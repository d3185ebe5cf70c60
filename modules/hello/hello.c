/* hello: the smallest module, in C. Shows parameters of every type. */
#include <keel/module.h>

KEEL_MODULE_NAME("hello");
KEEL_MODULE_LICENSE("MIT");
KEEL_MODULE_AUTHOR("The Keel developers");
KEEL_MODULE_DESCRIPTION("Says hello, in C");
KEEL_MODULE_VERSION("1.0");
KEEL_MODULE_PARAM(int, repeat, 1, "how many greetings");
KEEL_MODULE_PARAM(uint, mask, 0, "an unsigned parameter, echoed back");
KEEL_MODULE_PARAM(bool, shout, 0, "greet in capitals");
KEEL_MODULE_PARAM_STRING(who, 32, "world", "whom to greet");

static int hello_init(void)
{
    for (int64_t i = 0; i < keel_param_repeat; i++)
        keel_logf(KEEL_LOG_INFO, keel_param_shout ? "HELLO, %s! (mask %llu)" : "hello, %s (mask %llu)", keel_param_who,
            (unsigned long long)keel_param_mask);
    return 0;
}

static void hello_exit(void) { keel_logf(KEEL_LOG_INFO, "goodbye, %s", keel_param_who); }

KEEL_MODULE_INIT(hello_init);
KEEL_MODULE_EXIT(hello_exit);
