// Particles drawn as points, read from the simulation's buffer, and expanded by a geometry stage into quads that
// face the camera.
#version 450 core
uniform mat4 view_projection;
uniform vec3 eye_right;
uniform vec3 eye_up;

#pragma stage vertex
struct Particle {
    vec4 position;
    vec4 velocity;
};
layout(std430, binding = 0) readonly buffer Particles { Particle particles[]; };
out vec4 v_particle;
void main() {
    Particle p = particles[gl_VertexID];
    v_particle = vec4(p.position.xyz, clamp(p.position.w / max(p.velocity.w, 0.001), 0.0, 1.0));
}

#pragma stage geometry
layout(points) in;
layout(triangle_strip, max_vertices = 4) out;
in vec4 v_particle[];
out vec2 corner;
out float age;
void main() {
    for (int k = 0; k < 4; k++) {
        vec2 c = vec2(k & 1, k >> 1) * 2.0 - 1.0;
        vec3 p = v_particle[0].xyz + (eye_right * c.x + eye_up * c.y) * 0.07;
        gl_Position = view_projection * vec4(p, 1.0);
        corner = c;
        age = v_particle[0].w;
        EmitVertex();
    }
    EndPrimitive();
}

#pragma stage fragment
in vec2 corner;
in float age;
layout(location = 0) out vec4 colour;
void main() {
    float d = dot(corner, corner);
    if (d > 1.0) discard;
    vec3 hot = mix(vec3(1.0, 0.85, 0.4), vec3(1.0, 0.3, 0.1), age);
    colour = vec4(hot, (1.0 - d) * (1.0 - age));
}
