# Sourced by bench/collector_*.sh: the ~600-byte page-view GET every collector benchmark sends
# (query string, User-Agent, Referer, Cookie), and starting one `furrow collector` with 1 I/O
# thread. Needs FURROW (the binary) and WORK (a temp dir) set by the caller.
UA="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
REF="https://shop.example.com/products/garden/tools?id=42&utm_source=newsletter"
COOKIE="sp=0b5a7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b; _sp_id.1fff=abc.1700000000.1.1700000000.1700000000"
QS="e=pv&url=https%3A%2F%2Fshop.example.com%2Fproducts%2Fgarden&page=Garden%20tools&tv=js-3.24.6&tna=sp&aid=shop&p=web&tz=Europe%2FLondon&lang=en-GB&cs=UTF-8&res=1920x1080&cd=24&cookie=1&eid=5f1c0b7e-8f2a-4c3d-9e4f-a1b2c3d4e5f6&dtm=1700000000000&vp=1280x720&ds=1280x2000&vid=1&sid=9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d&duid=1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d&stm=1700000000001"

# write_req_lua FILE: a wrk script adding the request's headers.
write_req_lua() {
  cat >"$1" <<LUA
wrk.headers["User-Agent"] = "$UA"
wrk.headers["Referer"] = "$REF"
wrk.headers["Cookie"] = "$COOKIE"
LUA
}

# start_collector MODE RAWDIR ERRFILE: `furrow collector` writing a raw log in MODE (buffered |
# fsync); sets COLLECTOR_PID and COLLECTOR_PORT once it listens.
start_collector() {
  "$FURROW" collector --host 127.0.0.1 --port 0 --threads 1 --sink "rawlog:$2" --durability "$1" \
    2>"$3" &
  COLLECTOR_PID=$!
  for _ in $(seq 100); do grep -q listening "$3" && break; sleep 0.05; done
  COLLECTOR_PORT=$(sed -n 's/.*listening on [^ ]*:\([0-9]*\) .*/\1/p' "$3")
}
