-- busted specs for the Lua tracker: its JSON and base64 encoders, and the exact requests it makes
-- (through a recording transport) for each event type, GET and POST, and failed sends.
local furrow = require("furrow_tracker")

-- A small decoder for checking what the tracker encoded.
local function b64decode(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
  local bits, n, out = 0, 0, {}
  for c in s:gmatch(".") do
    local v = alphabet:find(c, 1, true)
    assert(v, "bad base64 character " .. c)
    bits = (bits << 6) | (v - 1)
    n = n + 6
    if n >= 8 then
      n = n - 8
      out[#out + 1] = string.char((bits >> n) & 0xFF)
    end
  end
  return table.concat(out)
end

local function url_decode(s)
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

local function parse_query(q)
  local t = {}
  for k, v in q:gmatch("([^&=]+)=([^&]*)") do
    t[url_decode(k)] = url_decode(v)
  end
  return t
end

-- A tracker whose requests are recorded and answered with statuses[i] (default 200).
local function recording(options, statuses)
  local requests = {}
  local ids = 0
  options = options or {}
  options.collector = options.collector or "http://collector.test:8080/"
  options.app_id = options.app_id or "app"
  options.namespace = options.namespace or "ns"
  options.clock = function() return 1700000000123 end
  options.uuid = function()
    ids = ids + 1
    return string.format("00000000-0000-4000-8000-%012d", ids)
  end
  options.transport = function(req)
    requests[#requests + 1] = req
    local status = statuses and statuses[#requests] or 200
    return status, status == 0 and "connection refused" or nil
  end
  return furrow.new(options), requests
end

describe("json_encode", function()
  it("encodes scalars, arrays and sorted objects compactly", function()
    assert.are.equal('{"a":1,"b":[true,false,null],"c":"x"}',
      furrow.json_encode({ c = "x", a = 1, b = { true, false, furrow.null } }))
    assert.are.equal("[]", furrow.json_encode(furrow.array()))
    assert.are.equal("{}", furrow.json_encode({}))
    assert.are.equal("-0.5", furrow.json_encode(-0.5))
    assert.are.equal("3", furrow.json_encode(3.0))
    assert.are.equal("0.1", furrow.json_encode(0.1))
    assert.are.equal("1e+300", furrow.json_encode(1e300))
    assert.are.equal("9007199254740993", furrow.json_encode(9007199254740993))
  end)

  it("escapes quotes, backslashes and control characters and keeps UTF-8", function()
    assert.are.equal([["a\"b\\c\n\t\u0001ü✓"]], furrow.json_encode("a\"b\\c\n\t\1ü✓"))
  end)

  it("refuses what JSON cannot hold", function()
    assert.has_error(function() furrow.json_encode(0 / 0) end)
    assert.has_error(function() furrow.json_encode(math.huge) end)
    assert.has_error(function() furrow.json_encode({ [1] = "a", x = "b", [true] = 1 }) end)
    assert.has_error(function() furrow.json_encode("\xff\xfe") end)
    assert.has_error(function() furrow.json_encode(print) end)
    local cycle = {}
    cycle.self = cycle
    assert.has_error(function() furrow.json_encode(cycle) end)
  end)

  it("treats a table with holes as an object only when keys are not 1..n", function()
    assert.are.equal('[1,2,3]', furrow.json_encode({ 1, 2, 3 }))
    assert.has_error(function() furrow.json_encode({ [1] = 1, [3] = 3 }) end)
  end)
end)

describe("base64url_encode", function()
  it("matches the RFC 4648 vectors in the URL-safe alphabet without padding", function()
    local vectors = { [""] = "", f = "Zg", fo = "Zm8", foo = "Zm9v", foob = "Zm9vYg",
      fooba = "Zm9vYmE", foobar = "Zm9vYmFy" }
    for input, expected in pairs(vectors) do
      assert.are.equal(expected, furrow.base64url_encode(input))
    end
    assert.are.equal("-_-_", furrow.base64url_encode("\xfb\xff\xbf"))
  end)

  it("round-trips arbitrary bytes", function()
    for len = 0, 40 do
      local t = {}
      for i = 1, len do t[i] = string.char((i * 37 + len) % 256) end
      local s = table.concat(t)
      assert.are.equal(s, b64decode(furrow.base64url_encode(s)))
    end
  end)
end)

describe("url_encode and uuid4", function()
  it("percent-encodes all but unreserved characters", function()
    assert.are.equal("a%20b%2Bc%26d%3D~-_.%C3%BC", furrow.url_encode("a b+c&d=~-_.ü"))
  end)
  it("makes version 4 UUIDs", function()
    assert.are.equal("ffffffff-ffff-4fff-bfff-ffffffffffff", furrow.uuid4(string.rep("\xff", 16)))
    for _ = 1, 20 do
      assert.truthy(furrow.uuid4():match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x+$"))
    end
    assert.are_not.equal(furrow.uuid4(), furrow.uuid4())
  end)
end)

describe("tracker over POST", function()
  it("sends a page view batch as payload_data 1-0-4 with stm", function()
    local t, requests = recording({ subject = { user_id = "u1", screen_resolution = { 800, 600 },
      language = "en", timezone = "Europe/Paris", ip_address = "192.0.2.1", useragent = "UA",
      domain_user_id = "d1", network_user_id = "n1", color_depth = 24, viewport = "10x20" } })
    local eid = t:track_page_view({ url = "https://a.example/?q=1", title = "T", referrer = "https://r/" })
    assert.are.equal("00000000-0000-4000-8000-000000000001", eid)
    assert.are.equal(0, #requests)
    assert.is_true(t:flush())
    assert.are.equal(1, #requests)
    local r = requests[1]
    assert.are.equal("POST", r.method)
    assert.are.equal("http://collector.test:8080/com.snowplowanalytics.snowplow/tp2", r.url)
    assert.are.equal("application/json; charset=utf-8", r.headers["content-type"])
    assert.are.equal(tostring(#r.body), r.headers["content-length"])
    assert.are.equal('{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{'
      .. '"e":"pv","url":"https://a.example/?q=1","page":"T","refr":"https://r/",'
      .. '"eid":"00000000-0000-4000-8000-000000000001","dtm":"1700000000123","tv":"furrow-lua-0.1.0",'
      .. '"tna":"ns","aid":"app","p":"srv","uid":"u1","res":"800x600","vp":"10x20","cd":"24",'
      .. '"lang":"en","tz":"Europe/Paris","ip":"192.0.2.1","ua":"UA","duid":"d1","tnuid":"n1",'
      .. '"stm":"1700000000123"}]}', r.body)
    assert.are.equal(0, t:pending())
  end)

  it("batches by batch_size and sends automatically when full", function()
    local t, requests = recording({ batch_size = 3 })
    for i = 1, 7 do
      assert.truthy(t:track_struct_event({ category = "c", action = "a", label = tostring(i) }))
    end
    assert.are.equal(2, #requests)
    assert.are.equal(1, t:pending())
    assert.is_true(t:flush())
    assert.are.equal(3, #requests)
    local _, n = requests[1].body:gsub('"e":"se"', "")
    assert.are.equal(3, n)
  end)

  it("encodes structured events with their value", function()
    local t, requests = recording()
    t:track_struct_event({ category = "shop", action = "add", label = "l", property = "p", value = 12.5 })
    t:track_struct_event({ category = "shop", action = "add", value = 3 })
    t:flush()
    assert.truthy(requests[1].body:find('"e":"se","se_ca":"shop","se_ac":"add","se_la":"l","se_pr":"p","se_va":"12.5"', 1, true))
    assert.truthy(requests[1].body:find('"se_va":"3"', 1, true))
    assert.is_nil((t:track_struct_event({ category = "c" })))
    assert.is_nil((t:track_struct_event({ category = "c", action = "a", value = "x" })))
    assert.is_nil((t:track_struct_event({ category = "c", action = "a", value = 0 / 0 })))
  end)

  it("wraps self-describing events and contexts in their envelopes (base64url)", function()
    local t, requests = recording()
    local eid = t:track_self_describing_event({
      schema = "iglu:com.acme/thing/jsonschema/1-0-0",
      data = { n = 1, tags = furrow.array({ "a" }) },
      contexts = { { schema = "iglu:com.acme/ctx/jsonschema/1-0-0", data = { k = "v" } } },
      true_timestamp = 1600000000000,
    })
    assert.truthy(eid)
    t:flush()
    local body = requests[1].body
    assert.truthy(body:find('"ttm":"1600000000000"', 1, true))
    local px = body:match('"ue_px":"([^"]+)"')
    local cx = body:match('"cx":"([^"]+)"')
    assert.are.equal('{"data":{"data":{"n":1,"tags":["a"]},"schema":"iglu:com.acme/thing/jsonschema/1-0-0"},'
      .. '"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"}', b64decode(px))
    assert.are.equal('{"data":[{"data":{"k":"v"},"schema":"iglu:com.acme/ctx/jsonschema/1-0-0"}],'
      .. '"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"}', b64decode(cx))
  end)

  it("sends plain JSON (ue_pr, co) when base64 is off", function()
    local t, requests = recording({ encode_base64 = false })
    t:track_self_describing_event({ schema = "iglu:com.acme/thing/jsonschema/1-0-0", data = { n = 1 },
      contexts = { { schema = "iglu:com.acme/ctx/jsonschema/1-0-0", data = { k = "v" } } } })
    t:flush()
    assert.truthy(requests[1].body:find('"ue_pr":"{\\"data\\":{\\"data\\":{\\"n\\":1}', 1, true))
    assert.truthy(requests[1].body:find('"co":"{\\"data\\":[', 1, true))
    assert.is_nil(requests[1].body:find('"ue_px"', 1, true))
  end)

  it("refuses invalid self-describing input without queueing it", function()
    local t = recording()
    local id, err = t:track_self_describing_event({ schema = "com.acme/thing/jsonschema/1-0-0", data = {} })
    assert.is_nil(id)
    assert.truthy(err:find("Iglu"))
    id, err = t:track_page_view({ url = "https://a/", contexts = { { schema = "iglu:a/b/c/1-0-0" } } })
    assert.is_nil(id)
    assert.truthy(err:find("needs data"))
    assert.is_nil((t:track_self_describing_event({ schema = "iglu:a/b/c/1-0-0", data = { x = 0 / 0 } })))
    assert.is_nil((t:track_page_view({})))
    assert.are.equal(0, t:pending())
  end)

  it("keeps events after a failed send and delivers them exactly once later", function()
    local t, requests = recording({ batch_size = 2 }, { 0, 503, 200, 200 })
    t:track_struct_event({ category = "c", action = "1" })  -- sends at 2: refused (status 0)
    t:track_struct_event({ category = "c", action = "2" })
    assert.are.equal(1, #requests)
    assert.are.equal(2, t:pending())
    local ok, err = t:flush()  -- 503
    assert.is_false(ok)
    assert.truthy(err:find("503"))
    -- The third fills a batch: the flush it triggers sends 1+2 (200), then 3 (200).
    t:track_struct_event({ category = "c", action = "3" })
    assert.are.equal(0, t:pending())
    assert.are.equal(4, #requests)
    assert.is_true(t:flush())
    assert.are.equal(4, #requests)
    assert.are.equal(requests[1].body, requests[2].body:gsub('"stm":"%d+"', '"stm":"1700000000123"'))
    local seen = {}
    for i = 3, 4 do
      for a in requests[i].body:gmatch('"se_ac":"(%d)"') do
        seen[#seen + 1] = a
      end
    end
    assert.are.same({ "1", "2", "3" }, seen)
  end)

  it("bounds the buffer by dropping the oldest event", function()
    local t = recording({ batch_size = 100, max_buffer = 3 }, { 0, 0, 0, 0, 0 })
    for i = 1, 5 do t:track_struct_event({ category = "c", action = tostring(i) }) end
    assert.are.equal(3, t:pending())
    assert.are.equal(2, t.dropped)
    assert.are.equal("3", t.buffer[1][3][2])
  end)
end)

describe("tracker over GET", function()
  it("sends each event at once to /i with a percent-encoded query", function()
    local t, requests = recording({ method = "get" })
    t:track_page_view({ url = "https://a.example/x y?z=1&w=ü", title = "a+b" })
    t:track_struct_event({ category = "c", action = "a" })
    assert.are.equal(2, #requests)
    assert.are.equal("GET", requests[1].method)
    local path, query = requests[1].url:match("^http://collector.test:8080(/i)%?(.*)$")
    assert.are.equal("/i", path)
    assert.is_nil(query:find("[^%w%-_.~%%&=]"), "only unreserved characters and escapes")
    local q = parse_query(query)
    assert.are.equal("pv", q.e)
    assert.are.equal("https://a.example/x y?z=1&w=ü", q.url)
    assert.are.equal("a+b", q.page)
    assert.are.equal("1700000000123", q.stm)
    assert.are.equal("se", parse_query(requests[2].url:match("%?(.*)$")).e)
  end)

  it("rejects bad options", function()
    assert.has_error(function() furrow.new({ collector = "ftp://x" }) end)
    assert.has_error(function() furrow.new({ collector = "http://x", method = "put" }) end)
    assert.has_error(function() furrow.new({ collector = "http://x", subject = { nope = 1 } }) end)
  end)
end)
