// libFuzzer's entry for programs that keep their own main (libclang_rt.fuzzer, linked by
// -sanitize=fuzzer). Only the declaration: nothing links unless scripts/fuzz builds.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
