-- wrk script: POST /login with a wrong password for the bench user.
--
-- Every request costs Bulwark one full password hash and answers 401.  The
-- script counts responses by status and prints one "status <code> <count>"
-- line per code at the end, so run.sh can check that every response was a
-- 401 (a 429 would mean the rate limits or the lockout were not raised and
-- the figure measures the limiter, not the login).
--
-- The email and password can be changed with BENCH_LOGIN_EMAIL and
-- BENCH_LOGIN_PASSWORD (plain ASCII, no quotes or backslashes).

local email = os.getenv("BENCH_LOGIN_EMAIL") or "bench@example.com"
local password = os.getenv("BENCH_LOGIN_PASSWORD") or "wrong-password-1"

wrk.method = "POST"
wrk.body = '{"email":"' .. email .. '","password":"' .. password .. '"}'
wrk.headers["Content-Type"] = "application/json"

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   counts = {}
end

function response(status, headers, body)
   counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
   local total = {}
   for _, t in ipairs(threads) do
      local c = t:get("counts") or {}
      for code, n in pairs(c) do
         total[code] = (total[code] or 0) + n
      end
   end
   for code, n in pairs(total) do
      io.write(string.format("status %d %d\n", code, n))
   end
end
