// Tessellated terrain: the vertex stage lays out a grid of quad patches, the tessellation control stage picks how
// finely to cut each by its distance to the eye, the evaluation stage lifts every vertex onto the height field.
#version 450 core
#include "../lib/terrain.glsl"

uniform mat4 view_projection;
uniform vec3 eye;

#pragma stage vertex
uniform int grid;
out vec2 v_xz;
void main() {
    int patch_index = gl_VertexID / 4;
    int corner = gl_VertexID % 4;
    vec2 cell = vec2(patch_index % grid, patch_index / grid);
    vec2 offset = vec2(corner & 1, corner >> 1);
    v_xz = ((cell + offset) / float(grid) * 2.0 - 1.0) * 8.0;
}

#pragma stage tess_control
layout(vertices = 4) out;
in vec2 v_xz[];
out vec2 c_xz[];
float level(vec2 a, vec2 b) {
    return clamp(20.0 / distance(eye.xz, (a + b) * 0.5), 1.0, 12.0);
}
void main() {
    c_xz[gl_InvocationID] = v_xz[gl_InvocationID];
    if (gl_InvocationID == 0) {
        gl_TessLevelOuter[0] = level(v_xz[0], v_xz[2]);
        gl_TessLevelOuter[1] = level(v_xz[0], v_xz[1]);
        gl_TessLevelOuter[2] = level(v_xz[1], v_xz[3]);
        gl_TessLevelOuter[3] = level(v_xz[2], v_xz[3]);
        float inner = max(max(gl_TessLevelOuter[0], gl_TessLevelOuter[1]), max(gl_TessLevelOuter[2], gl_TessLevelOuter[3]));
        gl_TessLevelInner[0] = inner;
        gl_TessLevelInner[1] = inner;
    }
}

#pragma stage tess_evaluation
layout(quads, fractional_even_spacing, ccw) in;
in vec2 c_xz[];
out vec3 world;
void main() {
    vec2 xz = mix(mix(c_xz[0], c_xz[1], gl_TessCoord.x), mix(c_xz[2], c_xz[3], gl_TessCoord.x), gl_TessCoord.y);
    world = vec3(xz.x, height(xz), xz.y);
    gl_Position = view_projection * vec4(world, 1.0);
}

#pragma stage fragment
in vec3 world;
layout(location = 0) out vec4 colour;
void main() {
    vec3 n = normalize(cross(dFdx(world), dFdy(world)));
    if (n.y < 0.0) n = -n;
    float light = clamp(dot(n, normalize(vec3(0.4, 0.8, 0.3))), 0.0, 1.0);
    vec3 grass = vec3(0.22, 0.45, 0.18);
    vec3 rock = vec3(0.45, 0.40, 0.35);
    vec3 base = mix(grass, rock, smoothstep(0.25, 0.6, 1.0 - n.y));
    base = mix(base, vec3(0.95), smoothstep(1.7, 2.1, world.y));
    float fog = smoothstep(6.0, 20.0, distance(world, eye));
    colour = vec4(mix(base * (0.3 + 0.7 * light), vec3(0.55, 0.7, 0.9), fog), 1.0);
}
