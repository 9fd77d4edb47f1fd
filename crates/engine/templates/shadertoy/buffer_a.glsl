// Buffer A (RGBA 32-bit float): a trail that fades, painted where the pointer is while the button is down, or by a
// moving spot. It reads its own last frame on iChannel0.
#pragma channel 0 buffer_a

void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    vec4 last = texelFetch(iChannel0, ivec2(fragCoord), 0);
    vec2 spot = iMouse.z > 0.0 ? iMouse.xy
                               : iResolution.xy * (0.5 + 0.35 * vec2(cos(iTime), sin(1.3 * iTime)));
    float paint = smoothstep(0.05 * iResolution.y, 0.0, length(fragCoord - spot));
    fragColor = vec4(last.x * 0.985 + paint, fract(last.y + paint * 0.01 + iTimeDelta * 0.05), 0.0, 1.0);
}
