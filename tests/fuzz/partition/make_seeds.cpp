// Writes the seed corpus of fuzz-partition: an MBR with an extended
// partition and its EBR chain, a GPT on 512- and on 4096-byte sectors,
// each behind the option byte fuzz_partition.cpp reads.
//   partition-fuzz-seeds OUTPUT...   (mbr, gpt, gpt-4k, in that order)
#include <stdio.h>

#include "../../unit/partition/disk_image.h"

using namespace partition_test;

namespace {

int write(const char* path, uint8_t options, const MemoryDisk& disk)
{
    FILE* file = fopen(path, "wb");
    if (!file || fwrite(&options, 1, 1, file) != 1
        || fwrite(disk.bytes.data(), 1, disk.bytes.size(), file) != disk.bytes.size()) {
        perror(path);
        return 1;
    }
    return fclose(file) == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: partition-fuzz-seeds MBR GPT GPT4K\n");
        return 2;
    }
    MemoryDisk mbr(512, 48);
    write_table_sector(mbr.sector(0), { { 0x80, 0x83, 1, 7 }, { 0, 0x05, 8, 40 } }, 0x12345678);
    write_table_sector(mbr.sector(8), { { 0, 0x83, 1, 7 }, { 0, 0x05, 16, 9 } });
    write_table_sector(mbr.sector(24), { { 0, 0x82, 1, 7 }, { 0, 0x0f, 24, 8 } });
    write_table_sector(mbr.sector(32), { { 0, 0x0c, 2, 6 } });

    GptLayout small;
    small.entry_count = 4;
    const Guid linux_fs = guid("0fc63daf-8483-4772-8e79-3d69d8477de4");
    MemoryDisk gpt(512, 40);
    write_gpt(gpt,
        { { 0, linux_fs, guid("11111111-2222-3333-4444-555555555555"), 8, 15, 0, u"root" },
            { 2, guid("c12a7328-f81f-11d2-ba4b-00a0c93ec93b"), guid("11111111-2222-3333-4444-555555555556"), 16, 30, 1,
                u"esp" } },
        small);
    MemoryDisk gpt4k(4096, 12);
    write_gpt(gpt4k, { { 1, linux_fs, guid("11111111-2222-3333-4444-555555555557"), 4, 7, 0, u"data" } }, small);
    return write(argv[1], 0x00, mbr) | write(argv[2], 0x0c, gpt) | write(argv[3], 0x0f, gpt4k);
}
