#include "chexgen/core/allocator.h"

#include <malloc.h>

namespace chexgen {

void keep_freed_memory_for_reuse() {
  // Setting either value turns glibc's dynamic threshold off; both are set so that blocks below the mmap threshold
  // come from the heap and the heap is trimmed only when twice that lies free at its top.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

}  // namespace chexgen
