-- The module system of allsource, run as trusted code in every scene VM. The Rust side keeps versions, history
-- and diagnostics (allsource-live); this file compiles a module, runs its top level, and patches the module's
-- table in place so that cached `require` results and objects made by earlier versions see the new functions.
local host = {}
local modules = {}   -- name -> { table = the module's one table, env = its environment }
local store = {}     -- persist(): name .. "\0" .. key -> value
local loading = {}
local plain_require = require
local getupvalue, setupvalue, getinfo = debug.getupvalue, debug.setupvalue, debug.getinfo
-- Captured before a guest sandbox removes them from the globals: the module system keeps using them.
local loadstring, setfenv, setmetatable, getmetatable = loadstring, setfenv, setmetatable, getmetatable
local pairs, ipairs, type, tostring, error, pcall, rawget, rawset = pairs, ipairs, type, tostring, error, pcall, rawget, rawset
local next = next
local collectgarbage = collectgarbage
-- LuaJIT's preallocating constructor (a snapshot of a large state makes a table per table: sized ones are faster).
local new_table = plain_require("table.new")
local require_os_subset = { clock = os.clock, time = os.time, date = os.date }
local guest = false

-- Each module runs in an environment of its own that reads globals through to _G: a module's globals do not
-- collide with another's, and survive its reloads (use persist() for state that must survive for sure).
local function module_env(name)
  local env = setmetatable({}, { __index = _G })
  env.persist = function(key, ctor)
    local k = name .. "\0" .. tostring(key)
    local v = store[k]
    if v == nil then
      if type(ctor) ~= "function" then error("persist(key, ctor): ctor must be a function", 2) end
      v = ctor()
      store[k] = v
    end
    return v
  end
  return env
end

-- tweak(name, default, opts): a value the editor's tweak bar shows and sets; returns its current value (the default
-- until the bar changes it; a vector is a table of 2 to 4 numbers). opts: min, max, step, colour. Values survive
-- reloads: the first call registers the value, later calls only read it.
local tweaks = { version = 0, values = {}, specs = {}, order = {} }
host.tweaks = tweaks
function _G.tweak(name, default, opts)
  if type(name) ~= "string" then error("tweak(name, default, opts): name must be a string", 2) end
  local v = tweaks.values[name]
  if v ~= nil then return v end
  local t = type(default)
  if t == "table" then
    local n = #default
    if n < 2 or n > 4 then error("tweak(" .. name .. "): a vector has 2 to 4 numbers", 2) end
    v = {}
    for i = 1, n do
      if type(default[i]) ~= "number" then error("tweak(" .. name .. "): a vector has only numbers", 2) end
      v[i] = default[i]
    end
  elseif t == "number" or t == "boolean" then
    v = default
  else
    error("tweak(" .. name .. "): the default must be a number, a boolean, or 2 to 4 numbers in a table", 2)
  end
  tweaks.values[name] = v
  tweaks.specs[name] = type(opts) == "table" and opts or {}
  tweaks.order[#tweaks.order + 1] = name
  tweaks.version = tweaks.version + 1
  return v
end

function host.compile(name, path, text)
  -- Bytecode can do what no source can (crash the VM): a guest's modules must be source.
  if guest and text:byte(1) == 27 then return nil, path .. ": binary chunks are refused for guest code" end
  local chunk, err = loadstring(text, "@" .. path)
  if not chunk then return nil, err end
  local m = modules[name]
  local env = m and m.env or module_env(name)
  setfenv(chunk, env)
  return chunk, env
end

-- Only compiles: what every keystroke of a Lua module gets (its text runs later, once the typing pauses).
function host.check(path, text)
  if guest and text:byte(1) == 27 then return path .. ": binary chunks are refused for guest code" end
  local chunk, err = loadstring(text, "@" .. path)
  if not chunk then return err end
  return nil
end

function host.run(chunk, path)
  local t = chunk()
  if type(t) ~= "table" then error(path .. ": a module must return a table, not " .. type(t), 0) end
  return t
end

-- Transactions. Before a version of module `name` runs (top level, on_reload, hand-off), the state it may change
-- is saved: every table reachable from the module's persisted values, its table and its environment, each as a
-- shallow copy of its contents (tables keep their identity; a restore puts the contents back in place, so every
-- reference to them stays good). The snapshot is dropped once the version ran a whole frame (host.commit_all), and
-- put back when the top level, on_reload or the first frame fails (host.rollback).
local pending = {}   -- name -> { saved = {table -> copy}, keys = {store key -> value}, module = modules[name] copy }

local function save_reachable(saved, root)
  local stack, n = { root }, 1
  while n > 0 do
    local t = stack[n]
    stack[n] = nil
    n = n - 1
    if saved[t] == nil then
      local copy = new_table(#t, 4)
      saved[t] = copy
      for k, v in next, t do
        copy[k] = v
        if type(v) == "table" and saved[v] == nil then n = n + 1; stack[n] = v end
        if type(k) == "table" and saved[k] == nil then n = n + 1; stack[n] = k end
      end
    end
  end
end

function host.begin(name)
  local saved, keys = {}, {}
  local prefix = name .. "\0"
  for k, v in next, store do
    if k:sub(1, #prefix) == prefix then
      keys[k] = v
      if type(v) == "table" then save_reachable(saved, v) end
    end
  end
  local m = modules[name]
  if m then
    save_reachable(saved, m.table)
    save_reachable(saved, m.env)
  end
  local stack = pending[name] or {}
  pending[name] = stack
  stack[#stack + 1] = { saved = saved, keys = keys, module = m and { table = m.table, env = m.env, initial = m.initial } }
end

function host.commit_all()
  for name in next, pending do pending[name] = nil end
end

local function restore(name, p, keep_module)
  for t, copy in next, p.saved do
    for k in next, t do
      if copy[k] == nil then rawset(t, k, nil) end
    end
    for k, v in next, copy do rawset(t, k, v) end
  end
  local prefix = name .. "\0"
  for k in next, store do
    if k:sub(1, #prefix) == prefix and p.keys[k] == nil then store[k] = nil end
  end
  for k, v in next, p.keys do store[k] = v end
  if p.module then
    modules[name] = { table = p.module.table, env = p.module.env, initial = p.module.initial }
  elseif not keep_module then
    modules[name] = nil
  end
end

-- Puts back what module `name` had before its newest version ran (a build that failed), or with `all` before the
-- first of its versions not yet through a frame (a first frame that failed). Returns whether there was anything.
function host.rollback(name, all)
  local stack = pending[name]
  if not stack or #stack == 0 then return false end
  -- A first version that failed its first frame keeps its table registered (callers hold it): the host makes it
  -- inert rather than unknown.
  repeat
    restore(name, stack[#stack], all)
    stack[#stack] = nil
  until not all or #stack == 0
  if #stack == 0 then pending[name] = nil end
  return true
end

-- A module's data as its source made it: a copy of every field that is not a function, nested tables copied
-- alike (cycles kept as cycles). Tables that are persisted state (persist's values) or that the running table
-- already holds as the same object are not copied: a reload keeps them whatever the source says.
local function source_data(t, old, copies)
  if copies[t] then return copies[t] end
  local copy = {}
  copies[t] = copy
  for k, v in next, t do
    local tv = type(v)
    if tv == "table" then
      local current = type(old) == "table" and rawget(old, k) or nil
      if v ~= current and not copies.persisted[v] then
        copy[k] = source_data(v, current, copies)
      end
    elseif tv ~= "function" then
      copy[k] = v
    end
  end
  return copy
end

local function persisted_values()
  local set = {}
  for _, v in next, store do
    if type(v) == "table" then set[v] = true end
  end
  return set
end

-- Copies the functions of `new` into `old`, recursively for tables both hold (class tables, metatables), adds
-- fields `old` lacks, and drops functions `new` no longer has. Data fields merge three ways against `base`, the
-- data the previous version's source made: a field whose value in the source changed (new ~= base) takes the new
-- source's value; one the source left alone keeps the running value (state changed at run time survives). `map`
-- records which new table each old one stands for.
local function patch(old, new, base, map, placed)
  map[new] = old
  for k, v in pairs(new) do
    local current = rawget(old, k)
    local b = base and rawget(base, k)
    if type(v) == "function" then
      rawset(old, k, v)
      placed[#placed + 1] = v
    elseif type(v) == "table" then
      if type(current) == "table" then
        if map[v] == nil and current ~= v then patch(current, v, type(b) == "table" and b or nil, map, placed) end
      elseif current == nil or (b ~= nil and type(b) ~= "table") then
        -- Missing, or the source turned a plain value into a table.
        rawset(old, k, map[v] or v)
      end
    elseif current == nil or (base ~= nil and b ~= v) then
      rawset(old, k, v)
    end
  end
  for k, v in pairs(old) do
    if type(v) == "function" and rawget(new, k) == nil then rawset(old, k, nil) end
  end
  local mt = getmetatable(new)
  if mt ~= nil and getmetatable(old) == nil then setmetatable(old, map[mt] or mt) end
end

-- The new functions close over the new version's tables (its `local Class = {}`): point them at the old ones,
-- so objects made after the reload share the class of objects made before it.
local function remap_upvalues(map, placed)
  for _, f in ipairs(placed) do
    local i = 1
    while true do
      local name, value = getupvalue(f, i)
      if name == nil then break end
      if type(value) == "table" and map[value] ~= nil then setupvalue(f, i, map[value]) end
      i = i + 1
    end
  end
end

-- Makes `new` the live version of module `name`. Returns true the first time.
function host.install(name, env, new)
  local m = modules[name]
  local copies = { persisted = persisted_values() }
  if not m then
    modules[name] = { table = new, env = env, initial = source_data(new, nil, copies) }
    return true
  end
  local old = m.table
  local initial = source_data(new, old, copies)
  if type(new.on_reload) == "function" and not m.stand_in then new.on_reload(old) end
  if m.stand_in then
    -- The first real version of a module that stood in inert (left out): its callers already hold this table.
    setmetatable(old, nil)
    m.stand_in = nil
  end
  local map, placed = {}, {}
  patch(old, new, m.initial, map, placed)
  remap_upvalues(map, placed)
  m.initial = initial
  return false
end

-- Inert modules. A module with no version that runs (disabled after a run-time failure) or left out (it wedged a
-- worker) must cost nothing: a call into any of its functions fails at once, with a message that names it, which
-- the caller's pcall sees. The host recognises the message by its start and blames nobody for it.
local INERT = "inert module '"

local function inert(name, why)
  local message = INERT .. name .. "': " .. why
  return function() error(message, 0) end
end

-- Replaces every function of module `name`'s table (and of the tables in it, class tables) that its own file
-- defined with one that fails at once. The next version that builds patches the real functions back in.
function host.disable(name, path, why)
  local m = modules[name]
  if not m then return end
  local source = "@" .. path
  local stub = inert(name, why)
  local seen, stack, n = {}, { m.table }, 1
  while n > 0 do
    local t = stack[n]
    stack[n] = nil
    n = n - 1
    if not seen[t] then
      seen[t] = true
      for k, v in next, t do
        if type(v) == "function" then
          local info = getinfo(v, "S")
          if info and info.source == source then rawset(t, k, stub) end
        elseif type(v) == "table" then
          n = n + 1
          stack[n] = v
        end
      end
    end
  end
end

-- Whether a scene module that fails to load stands in inert for its callers instead of failing them.
local inert_requires = false
function host.set_inert_requires(on) inert_requires = on end

-- A table that stands in for module `name` while it is left out: every field is a function that fails at once.
local function stand_in(name, why)
  local stub = inert(name, why)
  local t = setmetatable({}, { __index = function() return stub end })
  modules[name] = { table = t, env = module_env(name), stand_in = true }
  return t
end

function host.require(name)
  local m = modules[name]
  if m then return m.table end
  if type(name) ~= "string" then error("require: a module name is a string", 2) end
  if loading[name] then error("require cycle: module '" .. name .. "' is still loading", 2) end
  loading[name] = true
  local ok, found = pcall(host.load, name)
  loading[name] = nil
  if ok and type(found) == "string" then
    -- Left out: callers get an inert stand-in, so they load and run without it.
    return stand_in(name, found)
  end
  if not ok then
    -- The module's own diagnostics were reported with its file and line.
    local msg = tostring(found):gsub("^runtime error: ", ""):match("^[^\n]*")
    -- In a running scene its callers load and run without it (its functions fail at once until it loads);
    -- elsewhere (allsource check, guests, a stop that is still raising) the error is raised at the `require` line.
    if inert_requires and not guest and not msg:find("interrupted: ", 1, true) then
      return stand_in(name, "it did not load (" .. msg .. "); fix it and it loads")
    end
    error(msg, 2)
  end
  if found then
    m = modules[name]
    if m then return m.table end
    error("module '" .. name .. "' did not load", 2)
  end
  if guest then error("module '" .. name .. "' is not available to guest code", 2) end
  return plain_require(name)
end

-- Turns this VM into a guest's: only a whitelist of globals stays, the string metatable is locked, and the string
-- functions that can run long inside one C call refuse inputs past a size limit (no hook can stop a C call).
function host.sandbox(limits)
  guest = true
  local G = _G
  local keep = {
    "assert", "error", "ipairs", "next", "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset",
    "select", "setmetatable", "getmetatable", "tonumber", "tostring", "type", "unpack", "xpcall", "_VERSION",
    "coroutine", "math", "string", "table", "bit", "require", "gfx", "input", "collectgarbage", "tweak",
  }
  local allowed = {}
  for _, k in ipairs(keep) do allowed[k] = true end
  local names = {}
  for k in pairs(G) do names[#names + 1] = k end
  for _, k in ipairs(names) do
    if not allowed[k] then G[k] = nil end
  end
  local os = require_os_subset
  G.os = { clock = os.clock, time = os.time, date = os.date }
  G._G = G
  string.dump = nil
  local rep = string.rep
  string.rep = function(s, n, sep)
    local size = (#tostring(s) + (sep and #tostring(sep) or 0)) * (tonumber(n) or 0)
    if size > limits.rep then
      error("string.rep: the result would be " .. size .. " bytes; guest code may make at most " .. limits.rep, 2)
    end
    return rep(s, n, sep)
  end
  for _, name in ipairs({ "find", "match", "gmatch", "gsub" }) do
    local f = string[name]
    string[name] = function(s, pattern, a, b)
      local plain = name == "find" and b == true
      if not plain and type(s) == "string" and #s > limits.subject then
        error("string." .. name .. ": a " .. #s .. "-byte subject; guest code may match patterns on at most "
          .. limits.subject .. " bytes (one pattern match cannot be interrupted)", 2)
      end
      return f(s, pattern, a, b)
    end
  end
  getmetatable("").__metatable = false
end

function host.unload(name)
  local m = modules[name]
  if not m then return false end
  modules[name] = nil
  pending[name] = nil
  local prefix = name .. "\0"
  for k in pairs(store) do
    if k:sub(1, #prefix) == prefix then store[k] = nil end
  end
  collectgarbage()
  collectgarbage()
  return true
end

function host.call(name, callback, ...)
  local m = modules[name]
  if not m then return end
  local f = m.table[callback]
  if type(f) ~= "function" then return end
  return f(...)
end

function host.loaded(name)
  return modules[name] ~= nil
end

function host.table(name)
  local m = modules[name]
  return m and m.table
end

return host
