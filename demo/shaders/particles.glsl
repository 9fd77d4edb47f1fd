// The particle simulation: each particle rises from a beacon, falls back and is born again. It also writes the
// indirect draw command that draws the particles.
#pragma stage compute
layout(local_size_x = 64) in;
struct Particle {
    vec4 position; // xyz, w = age in seconds
    vec4 velocity; // xyz, w = life in seconds
};
layout(std430, binding = 0) buffer Particles { Particle particles[]; };
layout(std430, binding = 1) readonly buffer Beacons { vec4 beacons[8]; };
layout(std430, binding = 2) writeonly buffer Command { uint count; uint instances; uint first; uint base_instance; };
uniform float dt;
uniform int frame;

float random(float n) {
    return fract(sin(n) * 43758.5453);
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    if (i == 0u) {
        count = uint(particles.length());
        instances = 1u;
        first = 0u;
        base_instance = 0u;
    }
    Particle p = particles[i];
    p.position.w += dt;
    if (p.position.w > p.velocity.w) {
        float seed = float(i) * 1.37 + float(frame) * 0.11;
        p.position = vec4(beacons[i % 8u].xyz, 0.0);
        p.velocity = vec4((random(seed) - 0.5) * 0.8, 1.5 + random(seed + 1.0) * 1.5, (random(seed + 2.0) - 0.5) * 0.8,
                          0.8 + random(seed + 3.0) * 1.4);
    }
    p.velocity.y -= 1.5 * dt;
    p.position.xyz += p.velocity.xyz * dt;
    particles[i] = p;
}
