// One step of life for every cell: red is alive (0 or 1), green its age in steps, blue a trail that fades.
#pragma stage compute
layout(local_size_x = 16, local_size_y = 16) in;

uniform sampler2D now;
layout(rgba32f, binding = 0) uniform image2D next;
uniform int seed;   // 1: start again from noise
uniform vec3 brush; // the cell under the pointer, and 1 while the button is held

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(12.9898, 78.233))) * 43758.5453);
}

void main() {
    ivec2 p = ivec2(gl_GlobalInvocationID.xy);
    ivec2 size = textureSize(now, 0);
    if (seed == 1) {
        float alive = step(0.7, hash(vec2(p)));
        imageStore(next, p, vec4(alive, 0.0, alive, 1.0));
        return;
    }
    int neighbours = 0;
    for (int y = -1; y <= 1; y++) {
        for (int x = -1; x <= 1; x++) {
            if (x != 0 || y != 0) {
                neighbours += int(texelFetch(now, (p + ivec2(x, y) + size) % size, 0).r > 0.5);
            }
        }
    }
    vec4 here = texelFetch(now, p, 0);
    bool alive = here.r > 0.5;
    bool lives = neighbours == 3 || (alive && neighbours == 2);
    if (brush.z > 0.5 && distance(vec2(p), brush.xy) < 3.0) {
        lives = true;
    }
    float age = lives && alive ? here.g + 1.0 : 0.0;
    float trail = lives ? 1.0 : here.b * 0.95;
    imageStore(next, p, vec4(lives ? 1.0 : 0.0, age, trail, 1.0));
}
