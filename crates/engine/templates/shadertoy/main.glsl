// A Shadertoy scene: this is the Image pass; buffer_a.glsl is Buffer A and common.glsl the Common pass. Channels
// are set with `#pragma channel N SOURCE` (buffers, images, cube maps, the keyboard): see allsource's README.
#pragma channel 0 buffer_a

void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec4 a = texture(iChannel0, fragCoord / iResolution.xy);
    fragColor = vec4(palette(a.y + 0.2 * a.x) * clamp(a.x, 0.0, 1.0), 1.0);
}
