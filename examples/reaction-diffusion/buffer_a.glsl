// Buffer A: one step from Buffer B's last frame.
#pragma channel 0 buffer_b

void mainImage(out vec4 fragColor, in vec2 fragCoord) {
    fragColor = react(iChannel0, fragCoord, iMouse);
}
