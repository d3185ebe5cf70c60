// Prints the partition table of a disk image as JSON, as the kernel's
// reader sees it: test_sfdisk.py compares it with what sfdisk reads back.
//   partition-dump IMAGE [SECTOR_SIZE]
#include <stdio.h>
#include <stdlib.h>

#include <string>
#include <vector>

#include "lib/partition/partition.h"

using namespace keel::partition;

namespace {

struct File {
    FILE* file;
    uint32_t sector_size;
};

std::string quoted(const char* text)
{
    std::string out = "\"";
    for (const char* p = text; *p; ++p) {
        if (*p == '"' || *p == '\\')
            out += '\\';
        out += *p;
    }
    return out + "\"";
}

std::string guid_text(const Guid& guid)
{
    char text[kGuidTextSize];
    format_guid(guid, text);
    return text;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: partition-dump IMAGE [SECTOR_SIZE]\n");
        return 2;
    }
    File file { fopen(argv[1], "rb"), argc > 2 ? uint32_t(atoi(argv[2])) : 512 };
    if (!file.file) {
        perror(argv[1]);
        return 1;
    }
    fseek(file.file, 0, SEEK_END);
    long size = ftell(file.file);
    BlockReader reader;
    reader.context = &file;
    reader.sector_size = file.sector_size;
    reader.sector_count = uint64_t(size) / file.sector_size;
    reader.read = [](void* context, uint64_t lba, uint32_t count, void* buffer) -> keel::Result<void> {
        auto* f = static_cast<File*>(context);
        if (fseek(f->file, long(lba * f->sector_size), SEEK_SET) != 0
            || fread(buffer, f->sector_size, count, f->file) != count)
            return keel::Err(keel::Error::EIO);
        return {};
    };
    std::vector<Partition> partitions(256);
    PartitionTable table;
    table.partitions = partitions.data();
    table.capacity = partitions.size();
    static uint8_t scratch[kPartitionScratchSize];
    keel::Diagnostic diagnostic;
    auto result = read_partition_table(reader, table, scratch, sizeof(scratch), &diagnostic);
    if (result.is_error()) {
        printf("{\"error\": %s, \"message\": %s}\n", quoted(keel::error_name(result.error())).c_str(),
            quoted(diagnostic.message).c_str());
        return 0;
    }
    const char* scheme = table.scheme == Scheme::Gpt ? "gpt" : table.scheme == Scheme::Mbr ? "dos" : "none";
    printf("{\"scheme\": \"%s\", \"mbr_signature\": %u, \"disk_guid\": \"%s\", \"from_backup\": %s, "
           "\"primary_problem\": %s, \"partitions\": [",
        scheme, table.mbr_signature, guid_text(table.disk_guid).c_str(), table.from_backup ? "true" : "false",
        quoted(table.primary_problem.message).c_str());
    for (size_t i = 0; i < table.count; ++i) {
        const Partition& p = partitions[i];
        const char* kind = p.kind == PartitionKind::Gpt ? "gpt"
            : p.kind == PartitionKind::MbrExtended      ? "extended"
            : p.kind == PartitionKind::MbrLogical       ? "logical"
                                                        : "primary";
        printf("%s{\"number\": %u, \"kind\": \"%s\", \"start\": %llu, \"size\": %llu, \"mbr_type\": %u, "
               "\"bootable\": %s, \"type\": \"%s\", \"uuid\": \"%s\", \"attributes\": %llu, \"name\": %s}",
            i ? ", " : "", p.number, kind, static_cast<unsigned long long>(p.first_lba),
            static_cast<unsigned long long>(p.sector_count), p.mbr_type, p.bootable ? "true" : "false",
            guid_text(p.type_guid).c_str(), guid_text(p.unique_guid).c_str(),
            static_cast<unsigned long long>(p.attributes), quoted(p.name).c_str());
    }
    printf("]}\n");
    fclose(file.file);
    return 0;
}
