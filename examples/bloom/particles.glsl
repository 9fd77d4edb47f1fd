// One soft quad per particle, added into both colour textures of the target: the picture (location 0) and its
// hottest part only (location 1), which becomes the bloom.
#pragma stage vertex
struct Particle {
    vec4 position;
    vec4 velocity;
};
layout(std430, binding = 0) readonly buffer Particles { Particle particles[]; };
uniform vec2 u_resolution;
out vec2 local;
out vec3 tint;

void main() {
    const vec2 corners[6] = vec2[6](vec2(-1, -1), vec2(1, -1), vec2(-1, 1), vec2(-1, 1), vec2(1, -1), vec2(1, 1));
    Particle p = particles[gl_InstanceID];
    local = corners[gl_VertexID];
    float fade = p.position.w < 0.0 ? 0.0 : 1.0 - clamp(p.position.w / p.velocity.w, 0.0, 1.0);
    const vec3 colours[3] = vec3[3](vec3(1.0, 0.35, 0.1), vec3(0.2, 0.6, 1.0), vec3(0.9, 0.2, 0.8));
    tint = colours[gl_InstanceID % 3] * fade;
    vec2 at = p.position.xy + local * 0.008;
    gl_Position = vec4(at.x * u_resolution.y / u_resolution.x * 2.0, at.y * 2.0, 0.0, 1.0);
}

#pragma stage fragment
in vec2 local;
in vec3 tint;
layout(location = 0) out vec4 picture;
layout(location = 1) out vec4 hot;

void main() {
    float glow = exp(-dot(local, local) * 4.0);
    vec3 c = tint * glow;
    picture = vec4(c * 0.5, 1.0);
    hot = vec4(c * smoothstep(0.3, 0.9, glow) * 0.6, 1.0);
}
