// A cosine palette (after Inigo Quilez): included by main.glsl. Edit it while the demo runs: every shader that
// includes this file rebuilds.
vec3 palette(float t) {
    return 0.5 + 0.5 * cos(t + vec3(0.0, 2.1, 4.2));
}
