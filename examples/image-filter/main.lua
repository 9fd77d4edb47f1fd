-- An image filter on a PNG: the left of the split shows photo.png as it is, the right as an ink drawing (edges
-- found with a Sobel filter over luminance, colours posterized). Move the mouse to move the split; tweak the number
-- of colour levels and the ink's strength. Replace photo.png with any PNG or JPEG while it runs: it loads again.
--
-- (photo.png is a frame of examples/terrain, rendered by allsource.)
local M = {}

local filter = gfx.shader("filter.glsl")
local photo = gfx.image("photo.png", { srgb = true })
local levels = tweak("levels", 5, { min = 2, max = 16 })
local ink = tweak("ink", 1.0, { min = 0, max = 3 })
local split

function M.mousepressed(x) split = x end

function M.draw()
  local x = input.mouse_down(1) and input.mouse() or split or gfx.width() / 2
  split = x
  gfx.clear(0.1, 0.1, 0.1, 1)
  gfx.draw{
    shader = filter, textures = { photo },
    uniforms = { split = x, levels = levels, ink = ink, image_size = { photo.width, photo.height } },
  }
end

return M
