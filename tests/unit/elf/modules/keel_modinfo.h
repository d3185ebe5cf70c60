/* Modinfo for test modules, the way the SDK's header will emit it: one
 * `Keel` ELF note of type 1 per "key=value" string (docs/module-format.md).
 * The section name starting with ".note" makes the compiler mark it
 * SHT_NOTE and allocated, so the linker puts it in a PT_NOTE segment. */
#ifndef KEEL_MODINFO_H
#define KEEL_MODINFO_H

#define KEEL_MODINFO_CONCAT2(a, b) a##b
#define KEEL_MODINFO_CONCAT(a, b) KEEL_MODINFO_CONCAT2(a, b)

#define KEEL_MODINFO(text)                                                                                             \
    __attribute__((section(".note.keel"), used, aligned(4))) static const struct {                                     \
        unsigned int namesz, descsz, type;                                                                             \
        char name[8];                                                                                                  \
        char desc[(sizeof(text) + 3) & ~3u];                                                                           \
    } KEEL_MODINFO_CONCAT(keel_modinfo_, __COUNTER__) = { 5, sizeof(text), 1, "Keel", text }

#endif
