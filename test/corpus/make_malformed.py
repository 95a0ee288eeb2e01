#!/usr/bin/env python3
"""Writes the malformed-input corpus: test/corpus/malformed/<nnn>-<name>.<format> plus manifest.tsv.

Each input is one record in `furrow enrich`'s input format (`.thrift`: one base64 Thrift
CollectorPayload line; `.cloudfront` / `.tomcat`: one access-log line). manifest.tsv has one row per
input: file, input format, the bad-row type enrich must produce, and a word the bad row's failure
must contain (the field, parameter or key that is wrong). Every input must give exactly one bad row
and no good event. Deterministic: run it again and the files are byte-identical.

    python3 test/corpus/make_malformed.py   # from the repository root
"""
import base64
import json
import os
import struct
import sys

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "malformed")
SCHEMA = b"iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0"
TP2 = "/com.snowplowanalytics.snowplow/tp2"
PD = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
UE = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CO = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
NUID = "c5f3a09f-75f8-4309-bec5-fea560f78455"
EID = "44f107ec-6590-4115-a9ba-55f9fa608399"

CPFV = "collector_payload_format_violation"
AF = "adapter_failures"
TPV = "tracker_protocol_violations"
SV = "schema_violations"
EF = "enrichment_failures"


def b(s):
    return s if isinstance(s, bytes) else s.encode("utf-8")


def thrift(path="/i", qs=None, body=None, content_type=None, nuid=NUID, schema=SCHEMA,
           headers=None, ip="203.0.113.9", ts=1700000000000, ua="Mozilla/5.0 (X11; Linux x86_64)",
           drop=()):
    """TBinaryProtocol CollectorPayload, fields in id order, schema (31337) last."""
    out = bytearray()

    def s(fid, v):
        if v is None or fid in drop:
            return
        v = b(v)
        out.extend(b"\x0b" + struct.pack(">h", fid) + struct.pack(">i", len(v)) + v)

    s(100, ip)
    if 200 not in drop:
        out.extend(b"\x0a" + struct.pack(">h", 200) + struct.pack(">q", ts))
    s(210, "UTF-8")
    s(220, "ssc-3.4.0-stdout")
    s(300, ua)
    s(320, path)
    s(330, qs)
    s(340, body)
    hs = list(headers if headers is not None else ["Host: collector.example.com", "User-Agent: " + ua])
    if content_type is not None and headers is None:
        hs.append(content_type)
    if 350 not in drop:
        out.extend(b"\x0f" + struct.pack(">h", 350) + b"\x0b" + struct.pack(">i", len(hs)))
        for h in hs:
            h = b(h)
            out.extend(struct.pack(">i", len(h)) + h)
    s(360, content_type)
    s(400, "collector.example.com")
    s(410, nuid)
    s(31337, schema)
    out.extend(b"\x00")
    return bytes(out)


def line(raw):
    return base64.b64encode(raw)


def get_qs(**over):
    """A valid page view query string, with parameters replaced / added / removed (value None)."""
    params = {"e": "pv", "url": "https%3A%2F%2Fshop.example.com%2F", "page": "Home", "eid": EID,
              "tv": "js-4.6.8", "p": "web", "aid": "shop", "dtm": "1700000000000",
              "duid": "a3b695c5-7029-4eef-9a11-efc40919518f"}
    for k, v in over.items():
        params[k] = v
    return "&".join(k if v is ... else f"{k}={v}" for k, v in params.items() if v is not None)


def post_body(events=None, schema=PD, raw_data=None):
    ev = events if events is not None else [{"e": "pv", "p": "web", "tv": "js-4.6.8", "eid": EID,
                                             "url": "https://shop.example.com/"}]
    data = raw_data if raw_data is not None else json.dumps(ev, separators=(",", ":"))
    return '{"schema":"%s","data":%s}' % (schema, data)


JSON_CT = "application/json; charset=utf-8"
cases = []  # (name, format, content bytes, type, needle)


def add(name, content, typ, needle, fmt="thrift"):
    cases.append((name, fmt, content, typ, needle))


def add_thrift(name, raw, typ, needle):
    add(name, line(raw), typ, needle)


# ---- 1. Not base64 / not Thrift (collector_payload_format_violation) -------------------------
good = line(thrift(qs=get_qs()))
for i, junk in enumerate([b"*", b"!", b"@@", b"#", b"$", b"%", b"^", b"&", b"(", b")", b"{", b"}",
                          b"[", b"]", b"\\", b"|", b"~", b"\x00", b"\xff", b"\xc3\xa9", b";", b":",
                          b"?", b",", b"\"", b"'", b"<", b">", b"\x01", b"\x7f"]):
    pos = (i * 37) % len(good)
    add(f"invalid-base64-char-{i:02d}", good[:pos] + junk + good[pos:], CPFV, "base64")
add("base64-data-after-padding", line(b"ab") + b"QUJD", CPFV, "base64")
raw = thrift(qs=get_qs())
for i, cut in enumerate([1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, len(raw) // 2, len(raw) - 40,
                         len(raw) - 20, len(raw) - 2, len(raw) - 1]):
    add_thrift(f"truncated-thrift-{i:02d}", raw[:cut], CPFV, "Thrift")
for i, cut in enumerate([4, 10, 17, 50, 101, 200]):
    add(f"truncated-base64-{i:02d}", good[:cut], CPFV, "Thrift")
# A field of an unexpected type is skipped by Thrift readers (not an error), but its value must
# still be readable.
add_thrift("thrift-wrong-field-type-truncated", b"\x08\x00\x64\x00\x00", CPFV, "Thrift")
add_thrift("thrift-negative-string-length", b"\x0b\x00\x64\xff\xff\xff\xf0abc\x00", CPFV, "Thrift")
add_thrift("thrift-huge-string-length", b"\x0b\x00\x64\x7f\xff\xff\xf0abc\x00", CPFV, "Thrift")
add_thrift("thrift-huge-list-count", b"\x0f\x01\x5e\x0b\x7f\xff\xff\xff\x00", CPFV, "Thrift")
add_thrift("thrift-only-stop-byte", b"\x00", CPFV, "path")
add_thrift("thrift-random-bytes", bytes((i * 97 + 13) % 256 for i in range(300)), CPFV, "Thrift")
add_thrift("thrift-nested-struct-bomb", b"\x0c\x00\x01" * 3000, CPFV, "Thrift")

# Wrong or missing schema, path, nuid (spec 2.9).
for i, sch in enumerate([b"iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/2-0-0",
                         b"iglu:com.acme/CollectorPayload/thrift/1-0-0",
                         b"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
                         b"not an iglu uri", b"", b"iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift",
                         b"\x00\x00\x00", b"iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0\x00"]):
    add_thrift(f"wrong-schema-{i:02d}", thrift(qs=get_qs(), schema=sch), CPFV, "CollectorPayload")
add_thrift("missing-schema", thrift(qs=get_qs(), drop=(31337,)), CPFV, "CollectorPayload")
add_thrift("missing-path", thrift(qs=get_qs(), drop=(320,)), CPFV, "path")
for i, p in enumerate(["/", "", "/a/b/c", "/i/extra/segments", "//", "/x", "i", "/favicon.ico",
                       "/com.snowplowanalytics.snowplow/tp2/extra", "/\x00/\x00/\x00"]):
    add_thrift(f"unroutable-path-{i:02d}", thrift(path=p, qs=get_qs()), CPFV, "path")
for i, n in enumerate(["abc", "not-a-uuid", "c5f3a09f75f84309bec5fea560f78455",
                       "c5f3a09f-75f8-4309-bec5-fea560f784555",
                       "g5f3a09f-75f8-4309-bec5-fea560f78455", "{c5f3a09f-75f8-4309-bec5-fea560f78455}",
                       " c5f3a09f-75f8-4309-bec5-fea560f78455", "c5f3a09f-75f8-4309-bec5-fea560f78455\x00",
                       "\xff\xfe", "", "0"]):
    add_thrift(f"nuid-not-uuid-{i:02d}", thrift(qs=get_qs(), nuid=n), CPFV, "networkUserId")

# Query strings java.net.URI refuses (spec 1.1): raw space, quotes, braces, bad escapes, controls.
for i, bad in enumerate([" ", "\"", "{", "}", "|", "\\", "^", "`", "<", ">", "%", "%Z", "%ZZ", "%4",
                         "%G0", "\x00", "\x01", "\x1f", "\x7f", "\t", "\n", "\r", "%%", "% 20"]):
    qs = get_qs(page="Home" + bad + "Page")
    add_thrift(f"bad-querystring-{i:02d}", thrift(qs=qs), CPFV, "querystring")

# ---- 2. Unknown vendor/version (adapter_failures) --------------------------------------------
for i, p in enumerate(["/com.acme/v1", "/com.acme/track", "/com.mailchimp/v9", "/org.example/tp2",
                       "/com.snowplowanalytics.snowplow/tp9", "/com.snowplowanalytics.snowplow/tp3",
                       "/r/tp1", "/com.google/v1", "/vendor/version", "/a/b",
                       "/com.snowplowanalytics.iglu/v9", "/%00/%00"]):
    add_thrift(f"unknown-vendor-{i:02d}", thrift(path=p, qs=get_qs()), AF, "vendor")

# ---- 3. TP2 POST problems (tracker_protocol_violations) ---------------------------------------
body = post_body()
for i, ct in enumerate(["text/plain", "application/xml", "application/x-www-form-urlencoded",
                        "application/json; charset=utf-16", "application/json;charset=utf-8",
                        "application/json ; charset=utf-8", "APPLICATION/JSON", "json",
                        "multipart/form-data", "application/jsonx", "application/json; charset=latin1",
                        "text/json"]):
    add_thrift(f"wrong-content-type-{i:02d}", thrift(path=TP2, body=body, content_type=ct), TPV,
               "contentType")
add_thrift("post-body-without-content-type", thrift(path=TP2, body=body), TPV, "contentType")
add_thrift("post-content-type-without-body", thrift(path=TP2, content_type=JSON_CT), TPV, "body")
add_thrift("post-empty-body", thrift(path=TP2, body="", content_type=JSON_CT), TPV, "body")
add_thrift("no-body-no-querystring", thrift(path=TP2), TPV, "querystring")
invalid_json = [
    "{", "}", "[", "{\"schema\":", body[:-1], body[: len(body) // 2], body + "x", body + "}",
    "{'schema':'x'}", "{schema:\"x\"}", "{\"schema\":\"" + PD + "\",\"data\":[{\"e\":\"pv\",}]}",
    "{\"schema\":\"" + PD + "\" \"data\":[]}", "nul", "tru", "{\"a\":01}", "{\"a\":1.}",
    "{\"a\":\"\\x41\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"unterminated}", "/* c */ {}",
    "{\"a\":1} // comment", "\x00{}", "{\"a\":\"x\x00y\"}", "{\"a\":\"\x01\"}",
    "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-}", "{\"a\":+1}", "{\"a\":.5}", "[1,2,]",
]
for i, j in enumerate(invalid_json):
    add_thrift(f"invalid-json-body-{i:02d}", thrift(path=TP2, body=j, content_type=JSON_CT), TPV,
               "body")
for i, j in enumerate(["[]", "[" + body + "]", "\"just a string\"", "42", "null", "true",
                       "{}", "{\"data\":[]}", "{\"schema\":42,\"data\":[]}",
                       "{\"schema\":null,\"data\":[]}", "{\"schema\":\"" + PD + "\"}"]):
    add_thrift(f"body-not-self-describing-{i:02d}", thrift(path=TP2, body=j, content_type=JSON_CT),
               TPV, "INVALID_DATA_PAYLOAD")
for i, sch in enumerate(["iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/2-0-0",
                         "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
                         "iglu:com.acme/payload_data/jsonschema/1-0-4", "iglu:not-a-uri",
                         "http://iglucentral.com/schemas/payload_data/1-0-4"]):
    add_thrift(f"body-wrong-schema-{i:02d}",
               thrift(path=TP2, body=post_body(schema=sch), content_type=JSON_CT), TPV,
               "INVALID_IGLUURI" if sch == "iglu:not-a-uri" else "payload_data")
for i, data in enumerate(["{}", "\"x\"", "42", "null", "[]", "[1]", "[\"pv\"]", "[null]", "[[]]",
                          "[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"x\"},42]"]):
    add_thrift(f"body-data-not-event-array-{i:02d}",
               thrift(path=TP2, body=post_body(raw_data=data), content_type=JSON_CT), TPV, "data")
for i, (k, v) in enumerate([("e", 1), ("dtm", 1700000000000), ("p", None), ("tv", True),
                            ("aid", ["a"]), ("url", {"u": 1}), ("eid", 1.5), ("vid", 3)]):
    ev = {"e": "pv", "p": "web", "tv": "js-4.6.8", "eid": EID}
    ev[k] = v
    add_thrift(f"body-value-not-string-{i:02d}",
               thrift(path=TP2, body=post_body(events=[ev]), content_type=JSON_CT), TPV, f"$[0].{k}")
# Deep JSON bodies (max depth 50) and a huge batch whose last element is broken.
for i, depth in enumerate([60, 100, 500, 5000, 20000]):
    deep = "[" * depth + "]" * depth
    add_thrift(f"deep-json-body-{i:02d}",
               thrift(path=TP2, body=post_body(raw_data="[{\"e\":\"pv\",\"x\":" + deep + "}]"),
                      content_type=JSON_CT), TPV, "body")
    deep_obj = "{\"a\":" * depth + "1" + "}" * depth
    add_thrift(f"deep-json-object-body-{i:02d}",
               thrift(path=TP2, body=deep_obj, content_type=JSON_CT), TPV, "body")
for i, n in enumerate([1000, 5000]):
    evs = [{"e": "pv", "p": "web", "tv": "js-4.6.8", "url": "https://shop.example.com/%d" % k}
           for k in range(n)]
    evs.append({"e": "pv", "p": "web", "tv": 7})
    add_thrift(f"huge-batch-broken-tail-{i:02d}",
               thrift(path=TP2, body=post_body(events=evs), content_type=JSON_CT), TPV, f"$[{n}].tv")
# Redirect without u (spec 2.5).
for i, qs in enumerate(["e=pv", "", "x=https%3A%2F%2Fexample.com", "U=https%3A%2F%2Fexample.com"]):
    add_thrift(f"redirect-without-u-{i:02d}", thrift(path="/r/tp2", qs=qs), TPV, "querystring")

# ---- 4. Atomic field problems in a single GET event (schema_violations) -----------------------
bad_params = [
    ("e", ["xx", "PV", "page_view", "evnt", "E", "pv%00", "p%00v", "%FF", "%C3%A9", "pv%20",
           "1", "null", "pv,pp", "%EF%BF%BD"]),
    ("p", ["website", "WEB", "w", "mobile", "%FF", "web%00", "12", "headsets"]),
    ("eid", ["12345", "not-a-uuid", "44f107ec659041159a1555f9fa608399", "44f107ec-6590-4115-a9ba-55f9fa60839",
             "44f107ec-6590-4115-a9ba-55f9fa608399x", "%7B44f107ec-6590-4115-a9ba-55f9fa608399%7D",
             "44f107ec-6590-4115-a9ba-55f9fa60839%FF", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"]),
    ("sid", ["1", "session", "75d0fc90cef411e488300800200c9a66", "75d0fc90-cef4-11e4-8830-0800200c9a6"]),
    ("dtm", ["yesterday", "1e12", "1700000000000.5", "-", "0x10", "1111111111111111",
             "99999999999999999999", "%FF", "1700000000000%00", "+-1", "1%20700"]),
    ("stm", ["now", "1.5", "9223372036854775808", "-99999999999999999"]),
    ("ttm", ["soon", "2023-11-14T22:13:20Z", "1111111111111111"]),
    ("tid", ["abc", "2147483648", "1.0", "-2147483649", "0x1"]),
    ("vid", ["first", "99999999999", "1.5", "%FF"]),
    ("res", ["big", "1920", "1920x", "x1080", "1920X1080", "1920x1080x1", "-1x1", "99999999999x1",
             "1920%20x%201080", "1920x1080px"]),
    ("vp", ["wide", "1x", "1x2x3", "a1x1"]),
    ("ds", ["doc", "0x", "x0", "1.5x2"]),
    ("cookie", ["yes", "true", "2", "-1", "%FF"]),
    ("f_pdf", ["yes", "true", "10"]),
    ("f_fla", ["no", "false"]),
    ("f_java", ["2"]),
    ("se_va", ["abc", "1,5", "1.2.3", "--1", "1e", "%FF", "NaN", "Infinity"]),
    ("tr_tt", ["ten", "1,000.00", "$10"]),
    ("tr_tx", ["tax"]),
    ("tr_sh", ["free"]),
    ("ti_pr", ["price", "9.99%20GBP"]),
    ("ti_qu", ["two", "1.5", "99999999999"]),
    ("pp_mix", ["left", "1.5"]),
    ("pp_max", ["right", "99999999999"]),
    ("pp_miy", ["top"]),
    ("pp_may", ["bottom"]),
]
for param, values in bad_params:
    for i, v in enumerate(values):
        base = {"e": "se" if param.startswith("se") else ("tr" if param.startswith("tr") else
                ("ti" if param.startswith("ti") else ("pp" if param.startswith("pp") else "pv")))}
        if param == "e":
            base = {}
        qs = get_qs(**base, **{param: v})
        add_thrift(f"bad-{param}-{i:02d}", thrift(qs=qs), SV, param)

# Self-describing JSON in ue / co that is broken (schema_violations naming the parameter).
from urllib.parse import quote


def enc(s):
    return quote(s, safe="")


def b64u(s):
    return base64.urlsafe_b64encode(b(s)).decode().rstrip("=")


ue_ok_inner = '{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"targetUrl":"https://x.example/"}}'
bad_ue = ["{", "not json", "[]", "42", "{}", "{\"schema\":\"" + UE + "\"}",
          "{\"data\":" + ue_ok_inner + "}", "{\"schema\":\"iglu:bad\",\"data\":" + ue_ok_inner + "}",
          "{\"schema\":\"" + UE + "\",\"data\":{\"data\":{}}}",
          "{\"schema\":\"" + UE + "\",\"data\":{\"schema\":\"not-iglu\",\"data\":{}}}",
          "{\"schema\":\"" + UE + "\",\"data\":42}",
          "{\"schema\":\"" + UE + "\",\"data\":" + ue_ok_inner,
          "{\"schema\":\"" + UE + "\",\"data\":" + "[" * 60 + "]" * 60 + "}",
          "{\"schema\":\"" + UE + "\",\"data\":{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":" + "{\"a\":" * 80 + "1" + "}" * 80 + "}}",
          "\x00", "{\"schema\":\"" + UE + "\",\"data\":{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{\"a\":\"\\ud800\"}}", ]
# Not JSON: {field: unstruct}; JSON but not self-describing: {json, error: <code>} (Snowplow's
# NotIglu shape names the problem, not the parameter).
NJ, DP, SC, IU = "unstruct", "INVALID_DATA_PAYLOAD", "INVALID_SCHEMA", "INVALID_IGLUURI"
ue_needles = [NJ, NJ, DP, DP, SC, DP, SC, IU, SC, IU, DP, NJ, NJ, NJ, NJ, NJ]
for i, u in enumerate(bad_ue):
    add_thrift(f"bad-ue_pr-{i:02d}", thrift(qs=get_qs(e="ue", ue_pr=enc(u))), SV, ue_needles[i])
for i, u in enumerate(["!!!", "e30", "%FF%FE", b64u("not json"), b64u("[1,2"), b64u(bad_ue[5]),
                       "eyJzY2hlbWEiOiJ4In0*", b64u("{\"schema\":\"" + UE + "\",\"data\":" + "[" * 70 + "]" * 70 + "}")]):
    needle = ["ue_px", SC, "ue_px", NJ, NJ, DP, "ue_px", NJ][i]
    add_thrift(f"bad-ue_px-{i:02d}", thrift(qs=get_qs(e="ue", ue_px=u if "%" in u else enc(u))), SV,
               needle)
ctx_ok = '{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"x"}}'
bad_co = ["{", "[]", "{\"schema\":\"" + CO + "\"}", "{\"schema\":\"" + CO + "\",\"data\":{}}",
          "{\"schema\":\"" + CO + "\",\"data\":[42]}", "{\"schema\":\"" + CO + "\",\"data\":[{\"data\":{}}]}",
          "{\"schema\":\"iglu:com.acme/contexts/jsonschema/1-0-0\",\"data\":[" + ctx_ok + "]}",
          "{\"schema\":\"" + CO + "\",\"data\":[" + ctx_ok + "]",
          "{\"schema\":\"" + CO + "\",\"data\":[{\"schema\":\"iglu:x\",\"data\":{}}]}",
          "{\"schema\":\"" + CO + "\",\"data\":[{\"schema\":\"iglu:com.acme/c/jsonschema/1-0-0\",\"data\":" + "[" * 100 + "]" * 100 + "}]}",
          "null", "\"str\""]
co_needles = ["contexts", DP, DP, "contexts", DP, SC, "schemaCriterion", "contexts", IU, "contexts",
              DP, DP]
for i, c in enumerate(bad_co):
    add_thrift(f"bad-co-{i:02d}", thrift(qs=get_qs(co=enc(c))), SV, co_needles[i])
for i, c in enumerate(["***", b64u("{"), b64u(bad_co[2]), b64u(bad_co[4]), "%FF"]):
    needle = ["cx", "contexts", DP, DP, "cx"][i]
    add_thrift(f"bad-cx-{i:02d}", thrift(qs=get_qs(cx=c if "%" in c else enc(c))), SV, needle)

# Over-long atomic fields (modern enrich limits, spec 3.1): named by their column.
for i, (param, column, limit) in enumerate([("aid", "app_id", 255), ("uid", "user_id", 255),
                                            ("tv", "v_tracker", 100), ("tna", "name_tracker", 128),
                                            ("duid", "domain_userid", 128), ("se_ca", "se_category", 1000),
                                            ("se_ac", "se_action", 1000), ("tr_id", "tr_orderid", 255),
                                            ("ti_sk", "ti_sku", 255), ("lang", "br_lang", 255),
                                            ("tz", "os_timezone", 255), ("cd", "br_colordepth", 12),
                                            ("cs", "doc_charset", 128), ("fp", "user_fingerprint", 128),
                                            ("nuid", "network_userid", 128), ("page", "page_title", 2000),
                                            ("url", "page_url", 10000)]):
    val = "a" * (limit + 1)
    if param == "url":
        val = enc("https://shop.example.com/" + "p" * limit)
    extra = {"e": "se", "se_ac": "click"} if param.startswith("se") else {}
    extra = {"e": "tr"} if param.startswith("tr") else extra
    extra = {"e": "ti"} if param.startswith("ti") else extra
    add_thrift(f"overlong-{column}", thrift(qs=get_qs(**{**extra, param: val})), SV, column)

# ---- 5. Events enrich cannot classify (enrichment_failures) ----------------------------------
add_thrift("missing-event-type", thrift(qs=get_qs(e=None)), EF, "event")
add_thrift("legacy-ad-impression", thrift(qs=get_qs(e="ad")), EF, "event")
add_thrift("only-unknown-params", thrift(qs="testParam=3&testParam2=4"), EF, "event")


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    names = set()
    rows = ["# file\tformat\texpected bad-row type\tword the failure must contain"]
    for n, (name, fmt, content, typ, needle) in enumerate(cases, 1):
        fname = f"{n:03d}-{name}.{fmt}"
        assert fname not in names, fname
        names.add(fname)
        with open(os.path.join(OUT, fname), "wb") as fh:
            fh.write(content + b"\n")
        rows.append(f"{fname}\t{fmt}\t{typ}\t{needle}")
    with open(os.path.join(OUT, "manifest.tsv"), "w") as fh:
        fh.write("\n".join(rows) + "\n")
    print(f"wrote {len(cases)} inputs to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
