// Stand-in for compiler-rt's lib/fuzzer/FuzzerDefs.h: the one declaration the addon uses.
#pragma once
#include <cstddef>
#include <cstdint>
namespace fuzzer {
typedef int (*UserCallback)(const uint8_t *Data, size_t Size);
int FuzzerDriver(int *argc, char ***argv, UserCallback Callback);
}
