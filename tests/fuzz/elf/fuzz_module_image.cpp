// Fuzzes the module ELF parser and relocator: parse() must refuse anything
// malformed with ENOEXEC and a message, and for whatever it accepts every
// accessor, copy_segments and apply_relocations must stay in bounds.
// Seeded with the modules tests/unit/elf builds (-seed_inputs), since
// random bytes rarely get past the ELF header.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "elf_test_support.h"
#include "lib/elf/module_image.h"

using namespace keel;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // An exact-size heap copy, so ASan catches any read past the end.
    std::vector<uint8_t> file(data, data + size);
    Diagnostic diagnostic;
    auto image = ModuleImage::parse(file.data(), file.size(), diagnostic);
    if (strnlen(diagnostic.message, sizeof(diagnostic.message)) == sizeof(diagnostic.message))
        abort();
    if (image.is_error()) {
        if (image.error() != Error::ENOEXEC || diagnostic.message[0] == '\0')
            abort();
        return 0;
    }
    elf_test::walk_image(image.value());
    if (elf_test::load_into_buffer(image.value(), file, 0xffffffff80000000).is_error())
        abort();
    return 0;
}
