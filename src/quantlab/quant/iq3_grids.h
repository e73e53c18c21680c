// The 3-bit i-quants' lattice grids and sign table: facts of ggml's formats (llama.cpp c392e5094).
//
// Each grid point is four 3-bit levels l0..l3 packed as a 12-bit code, l_i = (code >> 3 i) & 7; the
// codes below are ggml's kgrid_256 (IQ3_XXS, 256 points) and kgrid_512 (IQ3_S, 512 points) from
// iq3xs_init_impl in ggml-quants.c, here 16 to a line. From them (checked against ggml-common.h's
// iq3xxs_grid and iq3s_grid, tests/quant/lattice_grids_test.cc):
//   - the quantizers' grid holds 2 l + 1 per element (1, 3, ..., 15), for both formats;
//   - IQ3_S's dequantization grid (iq3s_grid) is that same grid;
//   - IQ3_XXS's dequantization grid (iq3xxs_grid) holds kIq3XxsLevels[l] = 4 (2 l + 1), except 62 for
//     l = 7, and its block scale carries the extra factor 1/4 (the 0.25 in ggml's dequantizer and dot).
// A packed grid point is a uint32 whose byte i is element i (little-endian, as ggml reads it).
//
// Signs: 8 elements share one sign byte. IQ3_XXS stores only 7 sign bits per 8 elements, the eighth is
// the parity of the other seven (ggml's ksigns_iq2xs); IQ3_S stores all 8.
#pragma once

#include <array>
#include <cstdint>

namespace quantlab::iq3 {

inline constexpr uint16_t kXxsGridCodes[256] = {
    0,    2,    4,    9,    11,   15,   16,   18,   25,   34,   59,   61,   65,   67,   72,   74,
    81,   85,   88,   90,   97,   108,  120,  128,  130,  132,  137,  144,  146,  153,  155,  159,
    169,  175,  189,  193,  199,  200,  202,  213,  248,  267,  287,  292,  303,  315,  317,  321,
    327,  346,  362,  413,  436,  456,  460,  462,  483,  497,  513,  515,  520,  522,  529,  531,
    536,  538,  540,  551,  552,  576,  578,  585,  592,  594,  641,  643,  648,  650,  657,  664,
    698,  704,  706,  720,  729,  742,  758,  769,  773,  808,  848,  852,  870,  889,  901,  978,
    992,  1024, 1026, 1033, 1035, 1040, 1042, 1046, 1049, 1058, 1089, 1091, 1093, 1096, 1098, 1105,
    1112, 1139, 1143, 1144, 1152, 1154, 1161, 1167, 1168, 1170, 1183, 1184, 1197, 1217, 1224, 1228,
    1272, 1276, 1309, 1323, 1347, 1367, 1377, 1404, 1473, 1475, 1486, 1509, 1537, 1544, 1546, 1553,
    1555, 1576, 1589, 1594, 1600, 1602, 1616, 1625, 1636, 1638, 1665, 1667, 1672, 1685, 1706, 1722,
    1737, 1755, 1816, 1831, 1850, 1856, 1862, 1874, 1901, 1932, 1950, 1971, 2011, 2032, 2052, 2063,
    2077, 2079, 2091, 2095, 2172, 2192, 2207, 2208, 2224, 2230, 2247, 2277, 2308, 2345, 2356, 2389,
    2403, 2424, 2501, 2504, 2506, 2520, 2570, 2593, 2616, 2624, 2630, 2646, 2669, 2700, 2714, 2746,
    2754, 2795, 2824, 2835, 2839, 2874, 2882, 2905, 2984, 3028, 3042, 3092, 3108, 3110, 3124, 3153,
    3185, 3215, 3252, 3288, 3294, 3364, 3397, 3434, 3483, 3523, 3537, 3587, 3589, 3591, 3592, 3610,
    3626, 3670, 3680, 3722, 3749, 3754, 3776, 3789, 3803, 3824, 3857, 3873, 3904, 3906, 3924, 3992,
};

inline constexpr uint16_t kSGridCodes[512] = {
    0,    1,    2,    5,    7,    8,    9,    10,   12,   14,   16,   17,   21,   27,   32,   34,   37,
    39,   41,   43,   48,   50,   57,   60,   63,   64,   65,   66,   68,   72,   73,   77,   80,   83,
    87,   89,   93,   100,  113,  117,  122,  128,  129,  133,  135,  136,  139,  142,  145,  149,  152,
    156,  162,  165,  167,  169,  171,  184,  187,  195,  201,  205,  208,  210,  217,  219,  222,  228,
    232,  234,  247,  249,  253,  256,  267,  271,  273,  276,  282,  288,  291,  297,  312,  322,  324,
    336,  338,  342,  347,  353,  357,  359,  374,  379,  390,  393,  395,  409,  426,  441,  448,  450,
    452,  464,  466,  470,  475,  488,  492,  512,  513,  514,  516,  520,  521,  523,  525,  527,  528,
    530,  537,  540,  542,  556,  558,  561,  570,  576,  577,  579,  582,  584,  588,  593,  600,  603,
    609,  616,  618,  632,  638,  640,  650,  653,  655,  656,  660,  666,  672,  675,  685,  688,  698,
    705,  708,  711,  712,  715,  721,  727,  728,  732,  737,  754,  760,  771,  773,  778,  780,  793,
    795,  802,  806,  808,  812,  833,  840,  843,  849,  856,  858,  873,  912,  916,  919,  932,  934,
    961,  963,  968,  970,  977,  989,  993,  1010, 1016, 1024, 1025, 1027, 1029, 1031, 1032, 1034, 1036,
    1038, 1041, 1043, 1047, 1048, 1050, 1057, 1059, 1061, 1064, 1066, 1079, 1080, 1083, 1085, 1088, 1090,
    1096, 1099, 1103, 1106, 1109, 1113, 1116, 1122, 1129, 1153, 1156, 1159, 1169, 1171, 1176, 1183, 1185,
    1195, 1199, 1209, 1212, 1216, 1218, 1221, 1225, 1234, 1236, 1241, 1243, 1250, 1256, 1270, 1281, 1287,
    1296, 1299, 1306, 1309, 1313, 1338, 1341, 1348, 1353, 1362, 1375, 1376, 1387, 1400, 1408, 1410, 1415,
    1425, 1453, 1457, 1477, 1481, 1494, 1496, 1507, 1512, 1538, 1545, 1547, 1549, 1551, 1554, 1561, 1563,
    1565, 1570, 1572, 1575, 1577, 1587, 1593, 1601, 1603, 1605, 1612, 1617, 1619, 1632, 1648, 1658, 1662,
    1664, 1674, 1680, 1690, 1692, 1704, 1729, 1736, 1740, 1745, 1747, 1751, 1752, 1761, 1763, 1767, 1773,
    1787, 1795, 1801, 1806, 1810, 1817, 1834, 1840, 1844, 1857, 1864, 1866, 1877, 1882, 1892, 1902, 1915,
    1934, 1953, 1985, 1987, 2000, 2002, 2013, 2048, 2052, 2058, 2064, 2068, 2071, 2074, 2081, 2088, 2104,
    2114, 2119, 2121, 2123, 2130, 2136, 2141, 2147, 2153, 2157, 2177, 2179, 2184, 2189, 2193, 2203, 2208,
    2223, 2226, 2232, 2244, 2249, 2251, 2256, 2258, 2265, 2269, 2304, 2306, 2324, 2335, 2336, 2361, 2373,
    2375, 2385, 2418, 2443, 2460, 2480, 2504, 2509, 2520, 2531, 2537, 2562, 2568, 2572, 2578, 2592, 2596,
    2599, 2602, 2614, 2620, 2625, 2627, 2629, 2634, 2641, 2650, 2682, 2688, 2697, 2707, 2712, 2718, 2731,
    2754, 2759, 2760, 2775, 2788, 2793, 2805, 2811, 2817, 2820, 2832, 2842, 2854, 2890, 2902, 2921, 2923,
    2978, 3010, 3012, 3026, 3081, 3083, 3085, 3097, 3099, 3120, 3136, 3152, 3159, 3188, 3210, 3228, 3234,
    3245, 3250, 3256, 3264, 3276, 3281, 3296, 3349, 3363, 3378, 3392, 3395, 3420, 3440, 3461, 3488, 3529,
    3531, 3584, 3588, 3591, 3600, 3602, 3614, 3616, 3628, 3634, 3650, 3657, 3668, 3683, 3685, 3713, 3716,
    3720, 3726, 3729, 3736, 3753, 3778, 3802, 3805, 3819, 3841, 3845, 3851, 3856, 3880, 3922, 3938, 3970,
    3993, 4032,
};

// IQ3_XXS's dequantization value of level l.
inline constexpr uint8_t kXxsLevels[8] = {4, 12, 20, 28, 36, 44, 52, 62};

namespace detail {

template <size_t N>
constexpr std::array<uint32_t, N> PackGrid(const uint16_t (&codes)[N], bool xxs_levels) {
  std::array<uint32_t, N> grid{};
  for (size_t k = 0; k < N; ++k) {
    uint32_t packed = 0;
    for (int i = 0; i < 4; ++i) {
      const int l = (codes[k] >> 3 * i) & 7;
      const uint32_t value = xxs_levels ? kXxsLevels[l] : static_cast<uint32_t>(2 * l + 1);
      packed |= value << 8 * i;
    }
    grid[k] = packed;
  }
  return grid;
}

constexpr std::array<uint8_t, 128> SignsFromSeven() {
  std::array<uint8_t, 128> signs{};
  for (int i = 0; i < 128; ++i) {
    int parity = 0;
    for (int b = 0; b < 7; ++b) parity ^= (i >> b) & 1;
    signs[i] = static_cast<uint8_t>(i | (parity << 7));
  }
  return signs;
}

// Each of the 8 sign bits as a byte, 0x01 for + and 0xff for -: the operand of a byte sign instruction.
constexpr std::array<uint64_t, 256> SignBytes() {
  std::array<uint64_t, 256> out{};
  for (int s = 0; s < 256; ++s) {
    uint64_t bytes = 0;
    for (int b = 0; b < 8; ++b) bytes |= static_cast<uint64_t>(((s >> b) & 1) != 0 ? 0xff : 0x01) << 8 * b;
    out[s] = bytes;
  }
  return out;
}

}  // namespace detail

// The quantizers' grids (element value 2 l + 1); the IQ3_S one is also its dequantization grid.
inline constexpr std::array<uint32_t, 256> kXxsSearchGrid = detail::PackGrid(kXxsGridCodes, false);
inline constexpr std::array<uint32_t, 512> kSGrid = detail::PackGrid(kSGridCodes, false);
// IQ3_XXS's dequantization grid (ggml's iq3xxs_grid).
inline constexpr std::array<uint32_t, 256> kXxsGrid = detail::PackGrid(kXxsGridCodes, true);
// The full sign byte of 7 stored sign bits (ggml's ksigns_iq2xs).
inline constexpr std::array<uint8_t, 128> kSignsFromSeven = detail::SignsFromSeven();
// A sign byte spread to 8 bytes of +1 / -1 (ggml's keven_signs_q2xs holds the first 128 of the
// parity-completed ones).
inline constexpr std::array<uint64_t, 256> kSignBytes = detail::SignBytes();
// The 7 stored sign bits straight to 8 bytes of +1 / -1 (kSignBytes of kSignsFromSeven, ggml's
// keven_signs_q2xs): one lookup per 8 elements in the dot kernels.
inline constexpr std::array<uint64_t, 128> kSignBytesFromSeven = [] {
  std::array<uint64_t, 128> out{};
  for (int i = 0; i < 128; ++i) out[i] = kSignBytes[kSignsFromSeven[i]];
  return out;
}();

}  // namespace quantlab::iq3
