/* A stand-in for the SDK's stub libkeel.so: the symbols and version node
 * a module links against. Its bodies never run. */
int keel_debug_level;

int keel_log(int level, const char* msg)
{
    (void)level;
    (void)msg;
    return 0;
}

void* keel_alloc(unsigned long size)
{
    (void)size;
    return 0;
}
