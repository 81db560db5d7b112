-- miss.lua — every request gets a unique query parameter, so every request
-- misses the page cache (its key is "<path>?<raw query>", src/web/cached.c).
--
--   wrk ... -s bench/wrk/miss.lua URL -- NONCE [PARAM [TIMES]]
--
-- NONCE makes keys unique across runs (warm-up and repeats), PARAM is the
-- parameter name (default "_bench"; bench/store_bench.py checks first that the
-- app answers it exactly like the plain URL). TIMES (default 1) asks for each
-- unique URL that many times in a row: with 2, every URL is rendered twice,
-- the second time also stored (the page cache admits a URL on its second
-- request, src/cache/page_cache.c). Keys look like
-- "<path>?_bench=<nonce>-<thread>-<n>", so they can be deleted afterwards.
local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("tid", threads)
end

function init(args)
   nonce = args[1] or tostring(os.time())
   param = args[2] or "_bench"
   times = tonumber(args[3] or "1") or 1
   base = wrk.path
   sep = base:find("?", 1, true) and "&" or "?"
   n = 0
end

function request()
   n = n + 1
   local k = math.floor((n - 1) / times) + 1
   return wrk.format(nil, base .. sep .. param .. "=" .. nonce .. "-" .. tid .. "-" .. k)
end
