/*
 * Sepia-tone colour filter for one RGB pixel.
 *
 * The classic sepia matrix (as used by image editors and by the colour-filter programs of Weber et al.,
 * "Learning to Compile Programs to Neural Networks"): each output channel is a weighted sum of the input
 * channels, saturated at 255.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas" /* the nsc pragmas below are for nsc, not for cc */

#define CHANNEL_MAX 255.0f

static const float sepia_matrix[3][3] = {
    {0.393f, 0.769f, 0.189f},
    {0.349f, 0.686f, 0.168f},
    {0.272f, 0.534f, 0.131f},
};

static float saturate(float v)
{
    return v > CHANNEL_MAX ? CHANNEL_MAX : v;
}

#pragma nsc range r 0 255
#pragma nsc range g 0 255
#pragma nsc range b 0 255
#pragma nsc surrogate
void sepia(float r, float g, float b, float out[3])
{
    int c;
    for (c = 0; c < 3; c++)
        out[c] = saturate(sepia_matrix[c][0] * r + sepia_matrix[c][1] * g + sepia_matrix[c][2] * b);
}
