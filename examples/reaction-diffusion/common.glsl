// Shadertoy's Common pass: Gray-Scott reaction-diffusion, one step. Chemical A (red) feeds on the field, B (green)
// eats A and dies; where they balance, spots split and stripes wander. Buffers A and B each take one step a frame,
// reading each other, so the pattern grows two steps a frame.
const float FEED = 0.0367;
const float KILL = 0.0649;
const float DIFFUSE_A = 1.0;
const float DIFFUSE_B = 0.5;

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453);
}

vec4 react(sampler2D field, vec2 fragCoord, vec4 mouse) {
    ivec2 p = ivec2(fragCoord);
    ivec2 size = textureSize(field, 0);
    if (iFrame < 2) {
        // Start: A everywhere, B in a scatter of small squares.
        vec2 cell = floor(fragCoord / 12.0);
        float b = hash(cell) > 0.9 ? 1.0 : 0.0;
        return vec4(1.0, b, 0.0, 1.0);
    }
    vec2 here = texelFetch(field, p, 0).xy;
    vec2 laplacian = -here;
    for (int y = -1; y <= 1; y++) {
        for (int x = -1; x <= 1; x++) {
            if (x != 0 || y != 0) {
                float w = (x == 0 || y == 0) ? 0.2 : 0.05;
                laplacian += w * texelFetch(field, (p + ivec2(x, y) + size) % size, 0).xy;
            }
        }
    }
    float reaction = here.x * here.y * here.y;
    vec2 next = here + vec2(DIFFUSE_A * laplacian.x - reaction + FEED * (1.0 - here.x),
                            DIFFUSE_B * laplacian.y + reaction - (KILL + FEED) * here.y);
    // The pointer, while a button is held, drops B.
    if (mouse.z > 0.0 && length(fragCoord - mouse.xy) < 8.0) {
        next.y = 1.0;
    }
    return vec4(clamp(next, 0.0, 1.0), 0.0, 1.0);
}
