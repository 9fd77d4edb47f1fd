-- A Lua scene: `update(dt)` and `draw()` run every frame; edit this file while it runs and the new version takes
-- over in place, keeping what `persist` holds. Reference: docs/lua.md in allsource's source.
local M = {}

local rings = gfx.shader("rings.glsl")
local speed = tweak("speed", 1.0, { min = 0, max = 4 })
local state = persist("state", function() return { t = 0, clicks = 0 } end)

function M.update(dt)
  state.t = state.t + dt * speed
end

function M.draw()
  gfx.clear(0.05, 0.05, 0.08, 1)
  gfx.draw{ shader = rings, uniforms = { t = state.t, clicks = state.clicks } }
end

function M.mousepressed(x, y, button)
  state.clicks = state.clicks + 1
end

return M
