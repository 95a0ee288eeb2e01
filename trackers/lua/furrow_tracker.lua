-- furrow_tracker: a Snowplow Tracker Protocol tracker in pure Lua 5.4.
--
--   local furrow = require("furrow_tracker")
--   local t = furrow.new{ collector = "http://127.0.0.1:8080", app_id = "my-app" }
--   t:track_page_view{ url = "https://example.com/", title = "Home" }
--   t:track_struct_event{ category = "shop", action = "add", value = 9.99 }
--   t:track_self_describing_event{ schema = "iglu:com.acme/thing/jsonschema/1-0-0",
--                                  data = { n = 1 }, contexts = { ... } }
--   assert(t:flush())
--
-- Sending is synchronous (Lua has no threads): POST buffers events and sends a payload_data
-- 1-0-4 batch when `batch_size` are waiting or on flush(); GET sends each event at once. An event
-- leaves the buffer only after the collector answered 2xx, so a failed send is retried by the next
-- flush() (the buffer is bounded by `max_buffer`; the oldest events are dropped beyond it).
-- HTTP uses LuaSocket (socket.http), loaded only when the first request is made; tests pass their
-- own `transport`. JSON and base64 are implemented here (no C modules needed).
local M = {}

M.VERSION = "furrow-lua-0.1.0"
M.PAYLOAD_DATA_SCHEMA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
M.CONTEXTS_SCHEMA = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
M.UNSTRUCT_EVENT_SCHEMA = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"

---------------------------------------------------------------------------------------------------
-- JSON encoding
---------------------------------------------------------------------------------------------------

-- Sentinels: M.null encodes as null; M.array(t) forces a (possibly empty) table to be an array.
M.null = setmetatable({}, { __tostring = function() return "null" end })
local array_mt = { __name = "furrow.array" }
function M.array(t)
  return setmetatable(t or {}, array_mt)
end

local escapes = {
  ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t",
}

local function encode_string(s)
  if utf8.len(s) == nil then
    error("JSON string is not valid UTF-8", 0)
  end
  return '"' .. s:gsub('[%c"\\]', function(c)
    return escapes[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function encode_number(n)
  if math.type(n) == "integer" then
    return string.format("%d", n)
  end
  if n ~= n or n == math.huge or n == -math.huge then
    error("JSON cannot represent " .. tostring(n), 0)
  end
  if n == math.floor(n) and math.abs(n) < 2 ^ 53 then
    return string.format("%d", math.tointeger(n))
  end
  -- The shortest of %.15g / %.16g / %.17g that reads back as the same double.
  for digits = 15, 17 do
    local s = string.format("%." .. digits .. "g", n)
    if tonumber(s) == n then
      return s
    end
  end
  return string.format("%.17g", n)
end

-- A table is an array when it has the array metatable, or when it is non-empty and its keys are
-- exactly 1..n.
local function is_array(t)
  if getmetatable(t) == array_mt then
    return true
  end
  local n = #t
  if n == 0 then
    return false
  end
  local count = 0
  for _ in pairs(t) do
    count = count + 1
  end
  return count == n
end

local encode_value

local function encode_table(t, depth, seen)
  if depth > 64 then
    error("JSON nesting deeper than 64", 0)
  end
  if seen[t] then
    error("JSON cannot encode a cycle", 0)
  end
  seen[t] = true
  local parts = {}
  if is_array(t) then
    for i = 1, #t do
      parts[i] = encode_value(t[i], depth + 1, seen)
    end
    seen[t] = nil
    return "[" .. table.concat(parts, ",") .. "]"
  end
  -- Object keys sorted, so the same table always gives the same text.
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" then
      error("JSON object keys must be strings, got " .. type(k), 0)
    end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  for i, k in ipairs(keys) do
    parts[i] = encode_string(k) .. ":" .. encode_value(t[k], depth + 1, seen)
  end
  seen[t] = nil
  return "{" .. table.concat(parts, ",") .. "}"
end

encode_value = function(v, depth, seen)
  local kind = type(v)
  if v == M.null or v == nil then
    return "null"
  elseif kind == "boolean" then
    return v and "true" or "false"
  elseif kind == "number" then
    return encode_number(v)
  elseif kind == "string" then
    return encode_string(v)
  elseif kind == "table" then
    return encode_table(v, depth, seen)
  end
  error("JSON cannot encode a " .. kind, 0)
end

-- Compact JSON text of a Lua value. Errors (with a message, no position) on cycles, non-string
-- keys, NaN/infinity, invalid UTF-8, functions and other non-JSON values.
function M.json_encode(v)
  return encode_value(v, 0, {})
end

---------------------------------------------------------------------------------------------------
-- base64url, percent-encoding, UUID v4, time
---------------------------------------------------------------------------------------------------

local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

-- Base64 with the URL-safe alphabet and no padding (what Snowplow trackers send).
function M.base64url_encode(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = (a << 16) | ((b or 0) << 8) | (c or 0)
    local chars = 4
    if not b then
      chars = 2
    elseif not c then
      chars = 3
    end
    for k = 1, chars do
      local idx = (n >> (6 * (4 - k))) & 63
      out[#out + 1] = b64:sub(idx + 1, idx + 1)
    end
  end
  return table.concat(out)
end

-- Everything except RFC 3986 unreserved characters as %XX (so a literal '+' travels as %2B).
function M.url_encode(s)
  return (s:gsub("[^A-Za-z0-9%-_.~]", function(c)
    return string.format("%%%02X", c:byte())
  end))
end

local function random_bytes(n)
  local f = io.open("/dev/urandom", "rb")
  if f then
    local bytes = f:read(n)
    f:close()
    if bytes and #bytes == n then
      return bytes
    end
  end
  local t = {}
  for i = 1, n do
    t[i] = string.char(math.random(0, 255))
  end
  return table.concat(t)
end

-- Lower-case UUID v4 from 16 bytes (random when not given).
function M.uuid4(bytes)
  bytes = bytes or random_bytes(16)
  local b = { bytes:byte(1, 16) }
  b[7] = (b[7] & 0x0F) | 0x40
  b[9] = (b[9] & 0x3F) | 0x80
  local hex = {}
  for i = 1, 16 do
    hex[i] = string.format("%02x", b[i])
  end
  local h = table.concat(hex)
  return h:sub(1, 8) .. "-" .. h:sub(9, 12) .. "-" .. h:sub(13, 16) .. "-" .. h:sub(17, 20) .. "-"
    .. h:sub(21, 32)
end

-- Milliseconds since the Unix epoch (LuaSocket's clock when present).
function M.now_ms()
  local ok, socket = pcall(require, "socket")
  if ok and socket.gettime then
    return math.floor(socket.gettime() * 1000)
  end
  return os.time() * 1000
end

---------------------------------------------------------------------------------------------------
-- HTTP transport (LuaSocket)
---------------------------------------------------------------------------------------------------

-- transport(request) → status (number; 0 or nil when no answer), error text.
-- request = { method = "GET"|"POST", url = ..., body = ..., headers = {...} }
function M.socket_transport(timeout_s)
  return function(req)
    local http = require("socket.http")
    local ltn12 = require("ltn12")
    http.TIMEOUT = timeout_s or 5
    local sink = {}
    local ok, code = http.request({
      method = req.method,
      url = req.url,
      headers = req.headers,
      source = req.body and ltn12.source.string(req.body) or nil,
      sink = ltn12.sink.table(sink),
    })
    if not ok then
      return 0, tostring(code)
    end
    return tonumber(code) or 0, nil
  end
end

---------------------------------------------------------------------------------------------------
-- Tracker
---------------------------------------------------------------------------------------------------

local Tracker = {}
Tracker.__index = Tracker

local subject_params = {
  user_id = "uid", platform = "p", screen_resolution = "res", viewport = "vp",
  color_depth = "cd", language = "lang", timezone = "tz", ip_address = "ip", useragent = "ua",
  domain_user_id = "duid", network_user_id = "tnuid",
}

-- options: collector (required, "http://host:port"), method ("post" | "get"), app_id,
-- namespace, platform ("srv"), encode_base64 (true), batch_size (10), max_buffer (1000),
-- post_path, get_path, timeout (seconds), subject (table, see set_subject), and for tests:
-- transport, clock (→ ms), uuid (→ string).
function M.new(options)
  assert(type(options) == "table", "furrow_tracker.new: options table required")
  local collector = options.collector
  assert(type(collector) == "string" and collector:match("^https?://"),
    "furrow_tracker.new: collector must be an http:// or https:// URL")
  local method = options.method or "post"
  assert(method == "post" or method == "get", "furrow_tracker.new: method is 'post' or 'get'")
  local self = setmetatable({
    collector = collector:gsub("/$", ""),
    method = method,
    app_id = options.app_id,
    namespace = options.namespace,
    platform = options.platform or "srv",
    encode_base64 = options.encode_base64 ~= false,
    batch_size = options.batch_size or 10,
    max_buffer = options.max_buffer or 1000,
    post_path = options.post_path or "/com.snowplowanalytics.snowplow/tp2",
    get_path = options.get_path or "/i",
    transport = options.transport or M.socket_transport(options.timeout),
    clock = options.clock or M.now_ms,
    uuid = options.uuid or M.uuid4,
    subject = {},
    buffer = {},
    dropped = 0,
  }, Tracker)
  if options.subject then
    self:set_subject(options.subject)
  end
  return self
end

-- subject: user_id, platform, screen_resolution ({w, h} or "WxH"), viewport, color_depth,
-- language, timezone, ip_address, useragent, domain_user_id, network_user_id.
function Tracker:set_subject(subject)
  self.subject = {}
  for k, v in pairs(subject) do
    assert(subject_params[k], "furrow_tracker: unknown subject field " .. tostring(k))
    if type(v) == "table" then
      v = string.format("%dx%d", v[1], v[2])
    end
    self.subject[k] = tostring(v)
  end
end

function Tracker:set_user_id(id)
  self.subject.user_id = id
end

-- A self-describing JSON {schema=..., data=...} checked for shape.
local function check_sdj(sdj, what)
  if type(sdj) ~= "table" or type(sdj.schema) ~= "string"
      or not sdj.schema:match("^iglu:[%w%-_.]+/[%w%-_]+/[%w%-_]+/%d+%-%d+%-%d+$") then
    return nil, what .. " needs an Iglu schema URI (iglu:vendor/name/format/M-R-A)"
  end
  if sdj.data == nil then
    return nil, what .. " needs data"
  end
  return true
end

-- Builds and queues one event; returns its event id, or nil and an error.
function Tracker:_track(params, options)
  options = options or {}
  local p = params
  local function add(k, v)
    if v ~= nil and v ~= "" then
      p[#p + 1] = { k, tostring(v) }
    end
  end
  local eid = self.uuid()
  add("eid", eid)
  add("dtm", string.format("%d", self.clock()))
  if options.true_timestamp then
    add("ttm", string.format("%d", options.true_timestamp))
  end
  add("tv", M.VERSION)
  add("tna", self.namespace)
  add("aid", self.app_id)
  add("p", self.subject.platform or self.platform)
  for _, field in ipairs({ "user_id", "screen_resolution", "viewport", "color_depth", "language",
    "timezone", "ip_address", "useragent", "domain_user_id", "network_user_id" }) do
    add(subject_params[field], self.subject[field])
  end
  if options.contexts and #options.contexts > 0 then
    local list = M.array({})
    for i, c in ipairs(options.contexts) do
      local ok, err = check_sdj(c, "context " .. i)
      if not ok then
        return nil, err
      end
      list[i] = { schema = c.schema, data = c.data }
    end
    local ok, json = pcall(M.json_encode, { schema = M.CONTEXTS_SCHEMA, data = list })
    if not ok then
      return nil, "contexts: " .. json
    end
    if self.encode_base64 then
      add("cx", M.base64url_encode(json))
    else
      add("co", json)
    end
  end
  if #self.buffer >= self.max_buffer then
    table.remove(self.buffer, 1)
    self.dropped = self.dropped + 1
  end
  self.buffer[#self.buffer + 1] = p
  if self.method == "get" or #self.buffer >= self.batch_size then
    self:flush()
  end
  return eid
end

local function unstruct(self, params, schema, data)
  local ok, json = pcall(M.json_encode, {
    schema = M.UNSTRUCT_EVENT_SCHEMA,
    data = { schema = schema, data = data },
  })
  if not ok then
    return nil, "event data: " .. json
  end
  -- Envelope keys come out sorted ("data" before "schema"); both orders are valid JSON objects.
  if self.encode_base64 then
    params[#params + 1] = { "ue_px", M.base64url_encode(json) }
  else
    params[#params + 1] = { "ue_pr", json }
  end
  return true
end

-- event: url (required), title, referrer, contexts, true_timestamp.
function Tracker:track_page_view(event)
  if type(event) ~= "table" or type(event.url) ~= "string" or event.url == "" then
    return nil, "page view url is required"
  end
  local p = { { "e", "pv" }, { "url", event.url } }
  if event.title and event.title ~= "" then p[#p + 1] = { "page", event.title } end
  if event.referrer and event.referrer ~= "" then p[#p + 1] = { "refr", event.referrer } end
  return self:_track(p, event)
end

-- event: category, action (required), label, property, value (number), contexts, true_timestamp.
function Tracker:track_struct_event(event)
  if type(event) ~= "table" or not event.category or event.category == "" or not event.action
      or event.action == "" then
    return nil, "structured event category and action are required"
  end
  local p = { { "e", "se" }, { "se_ca", event.category }, { "se_ac", event.action } }
  if event.label and event.label ~= "" then p[#p + 1] = { "se_la", event.label } end
  if event.property and event.property ~= "" then p[#p + 1] = { "se_pr", event.property } end
  if event.value ~= nil then
    if type(event.value) ~= "number" then
      return nil, "structured event value must be a number"
    end
    local ok, text = pcall(encode_number, event.value)
    if not ok then
      return nil, "structured event value: " .. text
    end
    p[#p + 1] = { "se_va", text }
  end
  return self:_track(p, event)
end

-- event: schema, data (self-describing event), contexts, true_timestamp.
function Tracker:track_self_describing_event(event)
  local ok, err = check_sdj(event, "self-describing event")
  if not ok then
    return nil, err
  end
  local p = { { "e", "ue" } }
  ok, err = unstruct(self, p, event.schema, event.data)
  if not ok then
    return nil, err
  end
  return self:_track(p, event)
end

local function to_json_object(params, stm)
  local parts = {}
  for i, kv in ipairs(params) do
    parts[i] = M.json_encode(kv[1]) .. ":" .. M.json_encode(kv[2])
  end
  parts[#parts + 1] = '"stm":' .. M.json_encode(stm)
  return "{" .. table.concat(parts, ",") .. "}"
end

local function to_query(params, stm)
  local parts = {}
  for i, kv in ipairs(params) do
    parts[i] = M.url_encode(kv[1]) .. "=" .. M.url_encode(kv[2])
  end
  parts[#parts + 1] = "stm=" .. stm
  return table.concat(parts, "&")
end

-- Sends every buffered event (POST: batches of batch_size; GET: one request each). Returns true
-- when the buffer is empty, or false and the error of the first failed request (the events of
-- that request and after it stay buffered for the next flush).
function Tracker:flush()
  while #self.buffer > 0 do
    local stm = string.format("%d", self.clock())
    local count, req
    if self.method == "get" then
      count = 1
      req = { method = "GET", url = self.collector .. self.get_path .. "?" .. to_query(self.buffer[1], stm) }
    else
      count = math.min(#self.buffer, self.batch_size)
      local items = {}
      for i = 1, count do
        items[i] = to_json_object(self.buffer[i], stm)
      end
      local body = '{"schema":"' .. M.PAYLOAD_DATA_SCHEMA .. '","data":[' .. table.concat(items, ",")
        .. "]}"
      req = {
        method = "POST",
        url = self.collector .. self.post_path,
        body = body,
        headers = {
          ["content-type"] = "application/json; charset=utf-8",
          ["content-length"] = tostring(#body),
        },
      }
    end
    local status, err = self.transport(req)
    status = tonumber(status) or 0
    if status < 200 or status > 299 then
      return false, err or ("collector answered " .. status)
    end
    for _ = 1, count do
      table.remove(self.buffer, 1)
    end
  end
  return true
end

function Tracker:pending()
  return #self.buffer
end

return M
