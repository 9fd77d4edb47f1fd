// A Shadertoy multipass scene (Common, Buffer A, Buffer B, Image) as allsource runs one: each pass is a file, its
// channels set with `#pragma channel`; the buffers are 32-bit float. The Image pass shades chemical B as a relief
// lit from the top-left. Click and drag to drop more of it.
#pragma channel 0 buffer_b

void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec2 uv = fragCoord / iResolution.xy;
    vec2 texel = 1.0 / iResolution.xy;
    float b = texture(iChannel0, uv).y;
    float dx = texture(iChannel0, uv + vec2(texel.x, 0.0)).y - texture(iChannel0, uv - vec2(texel.x, 0.0)).y;
    float dy = texture(iChannel0, uv + vec2(0.0, texel.y)).y - texture(iChannel0, uv - vec2(0.0, texel.y)).y;
    vec3 normal = normalize(vec3(-dx, -dy, 0.08));
    float light = max(dot(normal, normalize(vec3(-0.5, 0.5, 0.7))), 0.0);
    vec3 base = mix(vec3(0.05, 0.08, 0.15), vec3(0.95, 0.75, 0.35), smoothstep(0.1, 0.35, b));
    fragColor = vec4(base * (0.35 + 0.75 * light), 1.0);
}
