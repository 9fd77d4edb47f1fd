// The post-process pass: the scene, rendered into a target, comes back through a sampler with a little chromatic
// aberration and a vignette. A fragment stage alone: the built-in vertex stage covers the frame.
uniform sampler2D scene;
in vec2 uv;
layout(location = 0) out vec4 colour;
void main() {
    vec2 d = uv - 0.5;
    vec3 c = vec3(texture(scene, uv + d * 0.004).r, texture(scene, uv).g, texture(scene, uv - d * 0.004).b);
    c *= 1.0 - dot(d, d) * 0.9;
    colour = vec4(c, 1.0);
}
