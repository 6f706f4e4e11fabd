-- wrk script: POST /token/refresh, each request spending a refresh token once.
--
-- A refresh token works once, so every connection chains: a response's new
-- refreshToken is what the thread sends next.  Each thread starts from its
-- own seeds, a slice of the file BENCH_REFRESH_SEEDS (one token a line, made
-- by run.sh); the next unused line is kept in BENCH_REFRESH_SEEDS .. ".next"
-- so the warm-up and the measured run never share a token (a token sent
-- twice would revoke its family, and the bench would measure 401s).  run.sh
-- gives a thread one seed per connection and one more: wrk calls request()
-- once per thread before it connects, to check the request.  Prints
-- "status <code> <count>" per code at the end, like the login script.

local seeds_file = os.getenv("BENCH_REFRESH_SEEDS")
local per_thread = tonumber(os.getenv("BENCH_REFRESH_PER_THREAD") or "64")

local threads = {}

function setup(thread)
	-- The main state runs setup once per thread, one after another.
	local f = io.open(seeds_file .. ".next", "r")
	local first = f and tonumber(f:read("*l")) or 1
	if f then f:close() end
	f = io.open(seeds_file .. ".next", "w")
	f:write(tostring(first + per_thread), "\n")
	f:close()
	thread:set("first", first)
	table.insert(threads, thread)
end

local queue, head, tail = {}, 1, 0
counts = {} -- global: done() reads it with thread:get

function init(args)
	local n = 0
	for line in io.lines(seeds_file) do
		n = n + 1
		if n >= first and n < first + per_thread then
			tail = tail + 1
			queue[tail] = line
		end
	end
end

function request()
	local tok = "exhausted"
	if head <= tail then
		tok = queue[head]
		queue[head] = nil
		head = head + 1
	end
	return wrk.format("POST", nil, { ["Content-Type"] = "application/json" },
	    '{"refreshToken":"' .. tok .. '"}')
end

function response(status, headers, body)
	counts[status] = (counts[status] or 0) + 1
	local tok = body and body:match('"refreshToken":"([%w_-]+)"')
	if tok then
		tail = tail + 1
		queue[tail] = tok
	end
end

function done(summary, latency, requests)
	local total = {}
	for _, t in ipairs(threads) do
		local c = t:get("counts")
		if c then
			for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
		end
	end
	for k, v in pairs(total) do print("status " .. k .. " " .. v) end
end
