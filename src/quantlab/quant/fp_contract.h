// Bit-exact reproduction of ggml's float arithmetic needs every multiply and add rounded on its own:
// a fused multiply-add (which compilers may form from a*b+c when FMA is available, e.g. on ARM or with
// -march=native) changes results in the last bit and with them the chosen quantization levels. ggml's
// reference quantizers are compiled without FMA on x86; quantlab forbids contraction in the files that
// must match them. Include this first in such a file.
#pragma once

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
