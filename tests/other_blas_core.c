/* Configure-time helper of tests/CMakeLists.txt: prints the OpenBLAS kernel set this machine gets and, after a
 * semicolon, another one the CPU can run that rounds otherwise, under which the tests whose numbers go through
 * OpenBLAS (directly, through LAPACK, or through LibTorch's convolutions) run a second time. A golden file that
 * pins one machine's kernels then fails here, not on a user's machine. The generic kernels (Prescott) against the
 * widest vector kernels the CPU has, or the other way round. */
#include <stdio.h>
#include <strings.h>

char* openblas_get_corename(void);

int main(void) {
  const char* own = openblas_get_corename();
  const char* other = "Prescott";
  if (strcasecmp(own, "Prescott") == 0) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
      other = "SkylakeX";
    else if (__builtin_cpu_supports("avx2"))
      other = "Haswell";
    else if (__builtin_cpu_supports("avx"))
      other = "Sandybridge";
    else
      other = "Nehalem";
  }
  printf("%s;%s", own, other);
  return 0;
}
