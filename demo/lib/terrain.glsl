// The terrain's height field, shared by the terrain's tessellation, the beacons and the particles.
float hash(vec2 p) {
    return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453);
}

float value_noise(vec2 p) {
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1.0, 0.0)), u.x), mix(hash(i + vec2(0.0, 1.0)), hash(i + vec2(1.0, 1.0)), u.x), u.y);
}

// World height at (x, z).
float height(vec2 xz) {
    vec2 p = xz * 0.35;
    float h = 0.0;
    float a = 0.5;
    for (int i = 0; i < 5; i++) {
        h += a * value_noise(p);
        p *= 2.03;
        a *= 0.5;
    }
    return (h * 2.0 - 0.6) * 1.8;
}
