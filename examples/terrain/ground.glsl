// The land: value-noise hills over water, seen from a camera flying along +z at `travel`.
#pragma stage vertex
uniform float travel;
uniform int grid;
uniform vec2 u_resolution;
out vec3 world;

const float SIZE = 70.0; // the grid's side in world units
const float NEAR = 0.1;
const float FAR = 80.0;

float hash(vec2 p) {
    return fract(sin(dot(p, vec2(127.1, 311.7))) * 43758.5453);
}

float noise(vec2 p) {
    vec2 i = floor(p);
    vec2 f = fract(p);
    vec2 u = f * f * (3.0 - 2.0 * f);
    return mix(mix(hash(i), hash(i + vec2(1, 0)), u.x), mix(hash(i + vec2(0, 1)), hash(i + vec2(1, 1)), u.x), u.y);
}

float height(vec2 p) {
    float h = 0.0;
    float amplitude = 0.5;
    for (int octave = 0; octave < 5; octave++) {
        h += amplitude * noise(p);
        p = mat2(1.6, 1.2, -1.2, 1.6) * p;
        amplitude *= 0.5;
    }
    return max(h * 9.0 - 3.5, 0.0);
}

mat4 look(vec3 eye, vec3 forward) {
    vec3 f = normalize(forward);
    vec3 s = normalize(cross(f, vec3(0, 1, 0)));
    vec3 u = cross(s, f);
    return mat4(vec4(s.x, u.x, -f.x, 0), vec4(s.y, u.y, -f.y, 0), vec4(s.z, u.z, -f.z, 0),
                vec4(-dot(s, eye), -dot(u, eye), dot(f, eye), 1));
}

mat4 perspective(float fov, float aspect) {
    float t = 1.0 / tan(fov * 0.5);
    return mat4(vec4(t / aspect, 0, 0, 0), vec4(0, t, 0, 0), vec4(0, 0, (FAR + NEAR) / (NEAR - FAR), -1),
                vec4(0, 0, 2.0 * FAR * NEAR / (NEAR - FAR), 0));
}

void main() {
    const ivec2 corners[6] = ivec2[6](ivec2(0, 0), ivec2(1, 0), ivec2(0, 1), ivec2(0, 1), ivec2(1, 0), ivec2(1, 1));
    int quad = gl_VertexID / 6;
    ivec2 cell = ivec2(quad % grid, quad / grid) + corners[gl_VertexID % 6];
    float step_ = SIZE / float(grid);
    // The grid moves with the camera in whole cells, so the land does not swim.
    float origin = floor(travel / step_) * step_;
    vec2 xz = vec2(float(cell.x) * step_ - SIZE * 0.5, origin - 5.0 + float(cell.y) * step_);
    world = vec3(xz.x, height(xz * 0.09) , xz.y);
    vec3 eye = vec3(sin(travel * 0.03) * 6.0, 7.5, travel);
    vec3 forward = vec3(cos(travel * 0.03) * 0.2, -0.3, 1.0);
    gl_Position = perspective(radians(60.0), u_resolution.x / u_resolution.y) * look(eye, forward) * vec4(world, 1.0);
}

#pragma stage fragment
in vec3 world;
layout(location = 0) out vec4 colour;

void main() {
    vec3 n = normalize(cross(dFdx(world), dFdy(world)));
    n = n.y < 0.0 ? -n : n;
    vec3 sun = normalize(vec3(0.5, 0.6, 0.4));
    float h = world.y;
    vec3 base = h < 0.01 ? vec3(0.1, 0.3, 0.5)
              : h < 0.4  ? vec3(0.76, 0.7, 0.5)
              : h < 3.2  ? vec3(0.25, 0.5, 0.2)
              : h < 4.5  ? vec3(0.45, 0.4, 0.35)
                         : vec3(0.95, 0.95, 1.0);
    if (h > 0.4 && n.y < 0.7) {
        base = vec3(0.45, 0.4, 0.35); // steep: rock
    }
    float light = h < 0.01 ? 0.9 : 0.25 + 0.85 * max(dot(n, sun), 0.0);
    colour = vec4(base * light, 1.0);
}
