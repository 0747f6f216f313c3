/*
 * RGB -> YCbCr colour space conversion as in JPEG (JFIF, full-range BT.601).
 *
 * The first step of the JPEG encoder (AxBench "jpeg").  Pixel types and the luma weights come from a local
 * header, include/pixel.h, so `nsc compile -MD` lists it as a dependency.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#include "include/pixel.h"

#pragma nsc range r 0 255
#pragma nsc range g 0 255
#pragma nsc range b 0 255
#pragma nsc surrogate
void rgb_to_ycbcr(sample_t r, sample_t g, sample_t b, sample_t ycbcr[3])
{
    sample_t y = LUMA_KR * r + LUMA_KG * g + LUMA_KB * b;

    /* Cb and Cr are the scaled blue and red differences, centred on 128. */
    ycbcr[0] = clamp_sample(y);
    ycbcr[1] = clamp_sample(CHROMA_OFFSET + 0.5 * (b - y) / (1.0 - LUMA_KB));
    ycbcr[2] = clamp_sample(CHROMA_OFFSET + 0.5 * (r - y) / (1.0 - LUMA_KR));
}
