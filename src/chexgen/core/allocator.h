// How the C library's allocator hands memory back to the system.
#pragma once

namespace chexgen {

// Keeps freed blocks of up to 32 MiB in the process for reuse instead of returning them to the system at once.
// glibc's defaults map blocks from 128 KiB up (its threshold rises only as such blocks are freed) and trim the heap
// above a few MiB, so work that allocates and frees the same few MiB per item (radiomics: ~2 MiB planes, a dozen
// per image type) pays a page fault per 4 KiB page and a zeroing each time: measured 12 % of radiomics extraction
// on one thread (docs/benchmarks.md). The price is at most ~64 MiB of freed memory kept per allocator arena. Call
// once at start-up, before threads start; programs (the CLI, the benchmarks) choose it, the library does not.
void keep_freed_memory_for_reuse();

}  // namespace chexgen
