// A new disk's partition table (MBR or GPT, core/lib/partition), read
// through the disk's own queue before the disk is visible. A table that
// cannot be read or makes no sense leaves the disk without partitions and
// says why in the log; the whole disk stays usable.
#include "arch/memory_layout.h"
#include "block/internal.h"
#include "lib/base/format.h"
#include "lib/partition/partition.h"
#include "log/log.h"
#include "mm/heap.h"
#include "mm/pmm.h"

namespace keel {

namespace {

Result<void> read_sectors(void* context, uint64_t lba, uint32_t count, void* buffer)
{
    auto* disk = static_cast<Disk*>(context);
    return block_io(disk->whole.block, BlockOp::Read, lba, count, buffer);
}

} // namespace

void scan_partitions(Disk& disk)
{
    const char* name = disk.whole.block.name;
    // The scratch sector buffer is handed to the device: one whole page.
    auto page = alloc_pages(0);
    auto* found = static_cast<partition::Partition*>(kzalloc(sizeof(partition::Partition) * kDiskPartitionsMax));
    if (page.is_error() || !found) {
        log_warn("block: %s: out of memory; partitions not read", name);
        if (page.is_ok())
            free_pages(page.value());
        kfree(found);
        return;
    }
    partition::BlockReader reader;
    reader.context = &disk;
    reader.sector_size = disk.config.sector_size;
    reader.sector_count = disk.config.sector_count;
    reader.read = read_sectors;
    partition::PartitionTable table;
    table.partitions = found;
    table.capacity = kDiskPartitionsMax;
    Diagnostic problem;
    auto read = partition::read_partition_table(
        reader, table, arch::phys_to_virt(page.value()), partition::kPartitionScratchSize, &problem);
    if (read.is_error()) {
        log_warn("block: %s: partition table not used: %s (%s)", name, problem.message, error_name(read.error()));
    } else {
        for (size_t i = 0; i < table.count; i++) {
            Volume& volume = disk.parts[disk.part_count++];
            volume.first_sector = found[i].first_lba;
            volume.block.sector_count = found[i].sector_count;
            format(volume.block.name, sizeof(volume.block.name), "%s%u", name, found[i].number);
        }
        if (table.count)
            log_info("block: %s: %s partition table, %zu partition(s)%s", name,
                table.scheme == partition::Scheme::Gpt ? "GPT" : "MBR", table.count,
                table.from_backup ? " (from the backup GPT)" : "");
    }
    kfree(found);
    free_pages(page.value());
}

} // namespace keel
