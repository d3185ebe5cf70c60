// What ext2 calls that the VFS host platform does not provide.
#include <stdio.h>
#include <stdlib.h>

#include <keel/keel.h>

extern "C" void keel_panic(const char* message)
{
    fprintf(stderr, "Kernel panic - not syncing: %s\n", message);
    fflush(stderr);
    abort();
}
