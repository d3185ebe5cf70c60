/*
 * keel/module.h: describing a module (docs/module-format.md).
 *
 *     #include <keel/module.h>
 *
 *     KEEL_MODULE_NAME("hello");
 *     KEEL_MODULE_LICENSE("MIT");
 *     KEEL_MODULE_AUTHOR("Jane Doe");
 *     KEEL_MODULE_DESCRIPTION("Says hello");
 *     KEEL_MODULE_VERSION("1.0");
 *     KEEL_MODULE_PARAM(int, repeat, 1, "how many greetings");
 *     KEEL_MODULE_PARAM_STRING(who, 32, "world", "whom to greet");
 *
 *     static int hello_init(void) { keel_logf(KEEL_LOG_INFO, "hello, %s\n", keel_param_who); return 0; }
 *     static void hello_exit(void) { }
 *     KEEL_MODULE_INIT(hello_init);
 *     KEEL_MODULE_EXIT(hello_exit);
 *
 * Each KEEL_MODULE_* key becomes one ELF note named "Keel" of type 1 in the
 * section .note.keel, whose descriptor is a NUL-terminated "key=value"
 * string; the linker gathers them into a PT_NOTE segment. Build in-tree
 * modules with -DKEEL_INTREE_MODULE to record intree=Y.
 *
 * Compile with -fvisibility=hidden: then only keel_module_init/exit, the
 * keel_param_* storage and what KEEL_EXPORT marks are exported.
 */
#ifndef KEEL_MODULE_H
#define KEEL_MODULE_H

#include <keel/keel.h>
#include <stdint.h>

#ifdef __cplusplus
#define KEEL_EXTERN_C extern "C"
#else
#define KEEL_EXTERN_C
#endif

/*
 * keel_symbol_get and keel_symbol_put tell which module calls them by the
 * address their call returns to. A call a function makes last is compiled
 * into a jump (a tail call), which returns to that function's caller
 * instead: the core, for a driver's remove or another callback, and the
 * reference would be counted as no module's (a get then pins the provider
 * for good; a put finds no reference of the caller's). These keep each
 * call a call: the empty statement after it runs once it returns, in the
 * module. Rust modules use keel::symbol::SymbolRef, which does the same.
 */
static inline void* keel_symbol_get_here(const char* name, const char* node)
{
    void* address = (keel_symbol_get)(name, node);
    __asm__ __volatile__("" : : : "memory");
    return address;
}

static inline void keel_symbol_put_here(const char* name)
{
    (keel_symbol_put)(name);
    __asm__ __volatile__("" : : : "memory");
}

#define keel_symbol_get(name, node) keel_symbol_get_here(name, node)
#define keel_symbol_put(name) keel_symbol_put_here(name)

/*
 * Exports a function or object from a module, for other modules that list
 * it in DT_NEEDED. Give the provider a version script so its exports carry
 * a version node (e.g. KABI_PROVIDER_1.0), as the core's do.
 */
#define KEEL_EXPORT __attribute__((visibility("default")))

#define KEEL_CONCAT_(a, b) a##b
#define KEEL_CONCAT(a, b) KEEL_CONCAT_(a, b)

/* The note type of modinfo strings, and the modinfo format version. */
#define KEEL_NOTE_TYPE_MODINFO 1
#define KEEL_MODINFO_VERSION "1"

/*
 * One modinfo note holding the string literal `text` ("key=value"): the
 * ELF note header, the name "Keel" (namesz 5, padded to 8) and the
 * descriptor padded to 4 bytes. descsz counts the NUL, not the padding.
 */
#define KEEL_MODINFO(text) KEEL_MODINFO_NAMED_(KEEL_CONCAT(keel_modinfo_, __COUNTER__), text)
#define KEEL_MODINFO_NAMED_(id, text)                                                                                  \
    __attribute__((section(".note.keel"), used, aligned(4))) static const struct {                                     \
        uint32_t namesz;                                                                                               \
        uint32_t descsz;                                                                                               \
        uint32_t type;                                                                                                 \
        char name[8];                                                                                                  \
        char desc[(sizeof(text) + 3) / 4 * 4];                                                                         \
        /* NOLINTNEXTLINE(bugprone-macro-parentheses): id is the variable's name, not an expression */                 \
    } id = { 5, sizeof(text), KEEL_NOTE_TYPE_MODINFO, "Keel", text }

#ifdef KEEL_INTREE_MODULE
#define KEEL_MODINFO_INTREE_ KEEL_MODINFO("intree=Y");
#else
#define KEEL_MODINFO_INTREE_
#endif

/* Required, once: the module's name ([a-z0-9_]{1,55}). Also records the format version. */
#define KEEL_MODULE_NAME(name)                                                                                         \
    KEEL_STATIC_ASSERT(sizeof(name) >= 2 && sizeof(name) <= 56, "module name must be 1 to 55 characters");             \
    KEEL_MODINFO_INTREE_                                                                                               \
    KEEL_MODINFO("modinfo_version=" KEEL_MODINFO_VERSION);                                                             \
    KEEL_MODINFO("name=" name)
/* Required: the license (e.g. "MIT", "GPL-2.0"). */
#define KEEL_MODULE_LICENSE(license) KEEL_MODINFO("license=" license)
#define KEEL_MODULE_AUTHOR(author) KEEL_MODINFO("author=" author)
#define KEEL_MODULE_DESCRIPTION(description) KEEL_MODINFO("description=" description)
#define KEEL_MODULE_VERSION(version) KEEL_MODINFO("version=" version)

/*
 * Parameter storage types: bool is 1 byte, int and uint are 8 bytes (the
 * loader writes values given to insmod before keel_module_init runs).
 */
#ifdef __cplusplus
#define KEEL_PARAM_CTYPE_bool bool
#else
#define KEEL_PARAM_CTYPE_bool _Bool
#endif
#define KEEL_PARAM_CTYPE_int int64_t
#define KEEL_PARAM_CTYPE_uint uint64_t

/*
 * A typed parameter (type: bool, int or uint): defines the exported
 * variable keel_param_NAME = default_value and its "parm" note. Strings use
 * KEEL_MODULE_PARAM_STRING.
 */
#define KEEL_MODULE_PARAM(type, name, default_value, description)                                                      \
    KEEL_EXTERN_C KEEL_EXPORT KEEL_PARAM_CTYPE_##type keel_param_##name;                                               \
    KEEL_PARAM_CTYPE_##type keel_param_##name = (default_value);                                                       \
    KEEL_MODINFO("parm=" #name ":" #type ":" description)

/* A string parameter: a char array of `capacity` bytes (NUL included). */
#define KEEL_MODULE_PARAM_STRING(name, capacity, default_value, description)                                           \
    KEEL_EXTERN_C KEEL_EXPORT char keel_param_##name[capacity];                                                        \
    char keel_param_##name[capacity] = default_value;                                                                  \
    KEEL_MODINFO("parm=" #name ":string:" description)

/*
 * Entry points: `int function(void)` returning 0 or a negative errno (a
 * failure unloads the module again), and `void function(void)` run before
 * unloading. Both are optional; each may appear once. Each also records
 * init= or exit= in modinfo, so that the loader refuses a module whose
 * version script hid the entry point instead of loading it without
 * running it.
 */
#define KEEL_MODULE_INIT(function)                                                                                     \
    KEEL_MODINFO("init=keel_module_init");                                                                             \
    KEEL_EXTERN_C KEEL_EXPORT int keel_module_init(void);                                                              \
    int keel_module_init(void) { return function(); }                                                                  \
    KEEL_EXTERN_C int keel_module_init(void)
#define KEEL_MODULE_EXIT(function)                                                                                     \
    KEEL_MODINFO("exit=keel_module_exit");                                                                             \
    KEEL_EXTERN_C KEEL_EXPORT void keel_module_exit(void);                                                             \
    void keel_module_exit(void) { function(); }                                                                        \
    KEEL_EXTERN_C void keel_module_exit(void)

#endif /* KEEL_MODULE_H */
