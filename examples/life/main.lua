-- Conway's game of life on the GPU. The world lives in two float targets swapped every step: a compute pass reads
-- one (texelFetch) and writes the other (imageStore), a draw shows it. Red is a cell's age in steps (a float that
-- keeps counting), blue a trail that fades where cells died.
--
-- Hold the mouse button to draw cells; Space pauses; R seeds the world again. Edit step.glsl (the rules) or
-- show.glsl (the colours) while it runs: the world carries on.
local M = {}

local N = 256
local step = gfx.shader("step.glsl")
local show = gfx.shader("show.glsl")

-- The world survives edits of this file.
local world = persist("world", function()
  return { now = gfx.target(N, N, "rgba32f"), next = gfx.target(N, N, "rgba32f"), seed = 1 }
end)
local paused = false

function M.keypressed(key)
  if key == "Space" then paused = not paused end
  if key == "KeyR" then world.seed = 1 end
end

-- The cell under the pointer: the world is drawn N cells high, repeated across.
local function cell_under_pointer()
  local x, y = input.mouse()
  local h = gfx.height()
  return (x / h * N) % N, ((h - y) / h * N) % N
end

function M.draw()
  if not paused or world.seed == 1 then
    local cx, cy = cell_under_pointer()
    gfx.dispatch{
      shader = step, groups = { N / 16, N / 16 },
      textures = { world.now }, images = { [0] = world.next },
      uniforms = { seed = world.seed, brush = { cx, cy, input.mouse_down(1) and 1 or 0 } },
    }
    world.now, world.next = world.next, world.now
    world.seed = 0
  end
  gfx.draw{ shader = show, textures = { { world.now, filter = "nearest", wrap = "repeat" } } }
end

return M
