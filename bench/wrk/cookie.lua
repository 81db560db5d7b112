-- cookie.lua — every request carries one Cookie header (a signed-in
-- shopper's session, bench/signin_bench.py):
--
--   wrk ... -s bench/wrk/cookie.lua URL -- "__Host-sid=..."
function init(args)
   if args[1] and args[1] ~= "" then
      wrk.headers["Cookie"] = args[1]
   end
end
