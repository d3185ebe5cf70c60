// The aarch64 kernel address space: 4 KiB pages, 48-bit virtual addresses,
// everything in the upper half (TTBR1); the lower half (TTBR0) has no
// mapping at all once paging_init has run, so address 0 faults. The same
// numbers as x86_64's, so the core's view of the layout is one:
//
//   0xffff888000000000  direct map of RAM (RW, never executable)
//   0xffffc90000000000  vmalloc region: kernel stacks (with guard pages),
//                       device registers and modules
//   0xffffffff80000000  the kernel image (text RX, rodata R, data RW)
//   0xffffffffffe00000  the fixmap: device pages mapped before vmalloc
//                       exists (the console UART at entry)
#pragma once

#include <stdint.h>

namespace keel::arch {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr unsigned kPageShift = 12;
inline constexpr uint64_t kDirectMapBase = 0xffff888000000000;
inline constexpr uint64_t kDirectMapMax = 64ull << 40; // 64 TiB of RAM
inline constexpr uint64_t kVmallocBase = 0xffffc90000000000;
inline constexpr uint64_t kVmallocSize = 1ull << 40; // 1 TiB
inline constexpr uint64_t kKernelVirtBase = 0xffffffff80000000;
inline constexpr uint64_t kFixmapBase = 0xffffffffffe00000;
// The boot page tables (boot/head.S) map physical memory below this
// (RAM on QEMU's virt machine starts at 1 GiB).
inline constexpr uint64_t kBootMappedPhys = 4ull << 30;

// Where the boot loader put the image: it may load it at any 2 MiB
// boundary, and boot/head.S records which.
extern "C" uint64_t keel_kernel_phys_base;

inline void* phys_to_virt(uint64_t phys) { return reinterpret_cast<void*>(kDirectMapBase + phys); }
inline uint64_t virt_to_phys_direct(const void* virt) { return reinterpret_cast<uint64_t>(virt) - kDirectMapBase; }
inline uint64_t kernel_image_virt_to_phys(uint64_t virt) { return virt - kKernelVirtBase + keel_kernel_phys_base; }
// The first physical byte of the kernel image.
inline uint64_t kernel_image_phys_start() { return keel_kernel_phys_base; }

} // namespace keel::arch
