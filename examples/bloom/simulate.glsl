// Three emitters circle the centre; each particle is born at one, swirls outwards, slows and dies, then is born
// again. Positions are in frame heights from the centre.
#pragma stage compute
layout(local_size_x = 64) in;

struct Particle {
    vec4 position; // xy, w = age in seconds (below 0: not born yet)
    vec4 velocity; // xy, w = life in seconds (0: never set up)
};
layout(std430, binding = 0) buffer Particles { Particle particles[]; };
uniform float dt;
uniform float time;

float random(float n) {
    return fract(sin(n) * 43758.5453);
}

void main() {
    uint i = gl_GlobalInvocationID.x;
    Particle p = particles[i];
    float seed = float(i) * 0.731 + time * 1.37;
    if (p.velocity.w == 0.0) {
        // The first frame: births spread over three seconds, not all at once.
        p.position.w = -random(float(i) * 0.377) * 3.0;
        p.velocity.w = 0.001;
    }
    p.position.w += dt;
    if (p.position.w > p.velocity.w) {
        float emitter = float(i % 3u) * 2.0944 + time * 0.7;
        vec2 at = 0.18 * vec2(cos(emitter), sin(emitter));
        float angle = emitter + (random(seed) - 0.5) * 1.2;
        float speed = 0.15 + random(seed + 1.0) * 0.25;
        p.position = vec4(at, 0.0, 0.0);
        p.velocity = vec4(speed * vec2(cos(angle), sin(angle)), 0.0, 1.5 + random(seed + 2.0) * 2.5);
    }
    if (p.position.w >= 0.0) {
        vec2 v = p.velocity.xy;
        v += vec2(-p.position.y, p.position.x) * 1.1 * dt; // swirl
        v *= 1.0 - 0.6 * dt;                              // drag
        p.position.xy += v * dt;
        p.velocity.xy = v;
    }
    particles[i] = p;
}
