/*
 * Shared pixel types and constants for the colour examples (ITU-R BT.601 / JFIF).
 */
#ifndef NSC_EXAMPLES_PIXEL_H
#define NSC_EXAMPLES_PIXEL_H

typedef double sample_t;

#define PIXEL_MAX 255.0
#define CHROMA_OFFSET 128.0

/* BT.601 luma weights of red and blue; green's weight is what is left. */
#define LUMA_KR 0.299
#define LUMA_KB 0.114
#define LUMA_KG (1.0 - LUMA_KR - LUMA_KB)

static inline sample_t clamp_sample(sample_t v)
{
    return v < 0.0 ? 0.0 : (v > PIXEL_MAX ? PIXEL_MAX : v);
}

#endif /* NSC_EXAMPLES_PIXEL_H */
