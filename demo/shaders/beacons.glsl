// Eight beacons wandering over the terrain. A vertex stage alone computes them, and transform feedback captures
// its output (xfb_buffer 0) into a buffer that the particle simulation reads as its emitters.
#version 450 core
#include "../lib/terrain.glsl"
#pragma stage vertex
uniform float u_time;
layout(xfb_buffer = 0, xfb_offset = 0) out vec4 beacon;
void main() {
    float i = float(gl_VertexID);
    float angle = u_time * 0.3 + i * 2.39996;
    float radius = 2.0 + 4.0 * fract(i * 0.618);
    vec2 xz = vec2(cos(angle), sin(angle)) * radius;
    beacon = vec4(xz.x, height(xz) + 0.2, xz.y, fract(i * 0.21));
    gl_Position = vec4(0.0);
}
