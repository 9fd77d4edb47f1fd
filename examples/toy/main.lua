-- A 2D toy with a text HUD: balls bounce around the frame. Click to throw a ball from the pointer, turn the wheel
-- to change gravity, Space clears. The physics is plain Lua; the balls reach the GPU in a storage buffer each frame
-- and one instanced draw shows them all; the HUD is gfx.text.
--
-- The balls are kept in `persist`: edit the physics below (bounce, drag) and they carry on with the new rules.
local M = {}

local MAX = 512
local BOUNCE = 0.85
local shader = gfx.shader("balls.glsl")
local buffer = gfx.buffer(MAX * 16)

local random_state = 7
local function random()
  random_state = (random_state * 16807) % 2147483647
  return random_state / 2147483647
end

local function ball(x, y)
  return { x = x, y = y, vx = (random() - 0.5) * 400, vy = -random() * 300, r = 8 + random() * 16, hue = random() }
end

local state = persist("state", function()
  local s = { balls = {}, gravity = 600 }
  for i = 1, 40 do s.balls[i] = ball(40 + random() * 400, 40 + random() * 160) end
  return s
end)

local w, h = 640, 360

function M.update(dt)
  dt = math.min(dt, 1 / 30)
  for _, b in ipairs(state.balls) do
    b.vy = b.vy + state.gravity * dt
    b.x, b.y = b.x + b.vx * dt, b.y + b.vy * dt
    if b.x < b.r then b.x, b.vx = b.r, math.abs(b.vx) * BOUNCE end
    if b.x > w - b.r then b.x, b.vx = w - b.r, -math.abs(b.vx) * BOUNCE end
    if b.y < b.r then b.y, b.vy = b.r, math.abs(b.vy) * BOUNCE end
    if b.y > h - b.r then b.y, b.vy = h - b.r, -math.abs(b.vy) * BOUNCE end
  end
end

function M.mousepressed(x, y, button)
  if #state.balls < MAX then state.balls[#state.balls + 1] = ball(x, y) end
end

function M.wheelmoved(dx, dy)
  state.gravity = state.gravity + dy * 100
end

function M.keypressed(key)
  if key == "Space" then state.balls = {} end
end

-- Text with a dark shadow, readable over the balls.
local function label(text, x, y, size, colour)
  gfx.text(text, x + 1, y + 1, { size = size, colour = { 0, 0, 0, 0.8 } })
  gfx.text(text, x, y, { size = size, colour = colour })
end

function M.draw()
  w, h = gfx.width(), gfx.height()
  gfx.clear(0.07, 0.07, 0.1, 1)
  local n = #state.balls
  if n > 0 then
    local data = {}
    for i, b in ipairs(state.balls) do
      local k = (i - 1) * 4
      data[k + 1], data[k + 2], data[k + 3], data[k + 4] = b.x, b.y, b.r, b.hue
    end
    buffer:write(0, data)
    gfx.draw{ shader = shader, count = 6, instances = n, storage = { [0] = buffer }, blend = "alpha" }
  end
  label(string.format("%d balls   gravity %d", n, state.gravity), 12, 10, 22, { 1, 1, 1 })
  label("click: throw a ball    wheel: gravity    space: clear", 12, h - 26, 14, { 0.85, 0.85, 0.95 })
  local time = string.format("Lua %.2f ms", gfx.stats().lua_ms)
  label(time, w - gfx.text_width(time, 14) - 12, 14, 14, { 1, 0.8, 0.3 })
end

return M
