// The x86_64 kernel address space (4-level paging, 48-bit addresses).
//
//   0xffff888000000000  direct map of all physical memory (RW, NX)
//   0xffffc90000000000  vmalloc region: kernel stacks (with guard pages) and
//                       module mappings, each with its own permissions
//   0xffffffff80000000  the kernel image (text RX, rodata R, data RW+NX)
#pragma once

#include <stdint.h>

// The image's first byte, the 32-bit entry code at 1 MiB (linker.ld).
extern "C" char __kernel_phys_start[];

namespace keel::arch {

inline constexpr uint64_t kPageSize = 4096;
inline constexpr unsigned kPageShift = 12;
inline constexpr uint64_t kDirectMapBase = 0xffff888000000000;
inline constexpr uint64_t kDirectMapMax = 64ull << 40; // 64 TiB of RAM
inline constexpr uint64_t kVmallocBase = 0xffffc90000000000;
inline constexpr uint64_t kVmallocSize = 1ull << 40; // 1 TiB
inline constexpr uint64_t kKernelVirtBase = 0xffffffff80000000;
// The boot page tables map this much of physical memory (see boot/pvh.S).
inline constexpr uint64_t kBootMappedPhys = 1ull << 30;

inline void* phys_to_virt(uint64_t phys) { return reinterpret_cast<void*>(kDirectMapBase + phys); }
inline uint64_t virt_to_phys_direct(const void* virt) { return reinterpret_cast<uint64_t>(virt) - kDirectMapBase; }
inline uint64_t kernel_image_virt_to_phys(uint64_t virt) { return virt - kKernelVirtBase; }
// The first physical byte of the kernel image.
inline uint64_t kernel_image_phys_start() { return reinterpret_cast<uint64_t>(__kernel_phys_start); }

} // namespace keel::arch
