#!/usr/bin/env bash
# bench/httplib/run.sh — which HTTP server library should ShoEase use?
#
# Builds the minimal servers in this directory (gcc -O2, pkg-config), starts
# each one (2 prefork workers on a shared listening socket, like the app) next
# to a private nginx that serves the identical bytes as a static file, and
# measures GET /hello with wrk. Two phases:
#
#   direct   wrk → server on 127.0.0.1:PORT (and wrk → nginx static file)
#   proxied  wrk → nginx :PORT → unix socket → server, with nginx's upstream
#            keepalive (the production path: nginx in front of the app)
#
# Every target is warmed up, then measured RUNS times; rounds are interleaved
# (round 1 runs every target, then round 2, ...) so that load from other
# work on this shared machine spreads over all targets instead of hitting one.
# Prints, per target: median req/s, min–max over the runs, median p99,
# server CPU time per request, and the ratio to nginx's static file.
#
# Only 127.0.0.1 and unix sockets under a private temp dir are used; every
# wrk run is bounded (-d). Every process this script starts is stopped on exit
# (by pid). Settings (environment):
#   RUNS=3 DURATION=5s WARMUP=2s CONNS=64 WRK_THREADS=2 WORKERS=2
#   MHD_POOLS="2 8"   thread-pool sizes to try for libmicrohttpd
#   BASE_PORT=39080   ports BASE_PORT..BASE_PORT+19 are used
#   PHASES="direct proxied"
#   QUIET_PCT=15 QUIET_WAIT=60  before each measured run, wait up to QUIET_WAIT s
#                     for other work to use at most QUIET_PCT % of the CPUs
#   KEEP=1            keep the temp dir (configs, logs, raw wrk output)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
RUNS="${RUNS:-3}"
DURATION="${DURATION:-5s}"
WARMUP="${WARMUP:-2s}"
CONNS="${CONNS:-64}"
WRK_THREADS="${WRK_THREADS:-2}"
WORKERS="${WORKERS:-2}"
MHD_POOLS="${MHD_POOLS:-2 8}"
BASE_PORT="${BASE_PORT:-39080}"
PHASES="${PHASES:-direct proxied}"
QUIET_PCT="${QUIET_PCT:-15}"
QUIET_WAIT="${QUIET_WAIT:-60}"
NGINX="${NGINX:-/usr/sbin/nginx}"
HZ="$(getconf CLK_TCK)"

for tool in gcc pkg-config wrk curl "$NGINX"; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 1; }
done

TMP="$(mktemp -d /tmp/shoease-httplib.XXXXXX)"
chmod 755 "$TMP"
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
    if [[ "${KEEP:-0}" == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------ build
echo "== build ($(gcc --version | head -1))"
mkdir -p "$TMP/bin"
declare -A LIBVER
build() { # name pkg
    local name="$1" pkg="$2"
    if ! pkg-config --exists "$pkg"; then
        echo "   skip $name: pkg-config $pkg not found"
        return 1
    fi
    # shellcheck disable=SC2046
    gcc -std=gnu17 -O2 -Wall -Wextra -Werror -o "$TMP/bin/srv_$name" "$HERE/srv_$name.c" \
        $(pkg-config --cflags --libs "$pkg") -lpthread
    LIBVER[$name]="$(pkg-config --modversion "$pkg")"
    echo "   srv_$name  ($pkg ${LIBVER[$name]})"
}
build mhd libmicrohttpd
build evhttp libevent
HAVE_H2O=0
if build h2o libh2o-evloop; then
    HAVE_H2O=1
    LIBVER[h2o]="$(dpkg-query -W -f='${Version}' libh2o-evloop-dev 2>/dev/null || echo "${LIBVER[h2o]}")"
else
    echo "   (apt-get install libh2o-evloop-dev to include h2o)"
fi
"$TMP/bin/srv_mhd" --dump-body "$TMP/hello.html"
NGINX_VER="$("$NGINX" -v 2>&1 | sed 's/.*nginx\///')"

# ------------------------------------------------------------------ targets
# name|phase|port|server argv (empty for nginx static)|unix socket (proxied)
TARGETS=()
p=$BASE_PORT
TARGETS+=("nginx static file|direct|$p||")
p=$((p + 1)); TARGETS+=("nginx static, open_file_cache|direct|$p||ofc")
for t in $MHD_POOLS; do
    p=$((p + 1)); TARGETS+=("libmicrohttpd pool=$t|direct|$p|$TMP/bin/srv_mhd -p $p -w $WORKERS -t $t|")
done
p=$((p + 1)); TARGETS+=("libevent evhttp|direct|$p|$TMP/bin/srv_evhttp -p $p -w $WORKERS|")
p=$((p + 1)); TARGETS+=("libevent evhttp REUSEPORT|direct|$p|$TMP/bin/srv_evhttp -p $p -w $WORKERS -R|")
if [[ $HAVE_H2O == 1 ]]; then
    p=$((p + 1)); TARGETS+=("libh2o evloop|direct|$p|$TMP/bin/srv_h2o -p $p -w $WORKERS|")
fi
p=$((BASE_PORT + 10))
for t in $MHD_POOLS; do
    p=$((p + 1)); s="$TMP/mhd$t.sock"
    TARGETS+=("nginx -> libmicrohttpd pool=$t|proxied|$p|$TMP/bin/srv_mhd -u $s -w $WORKERS -t $t|$s")
done
p=$((p + 1)); s="$TMP/evhttp.sock"
TARGETS+=("nginx -> libevent evhttp|proxied|$p|$TMP/bin/srv_evhttp -u $s -w $WORKERS|$s")
if [[ $HAVE_H2O == 1 ]]; then
    p=$((p + 1)); s="$TMP/h2o.sock"
    TARGETS+=("nginx -> libh2o evloop|proxied|$p|$TMP/bin/srv_h2o -u $s -w $WORKERS|$s")
fi
SELECTED=()
for tgt in "${TARGETS[@]}"; do
    IFS='|' read -r name phase port cmd sock <<<"$tgt"
    [[ " $PHASES " == *" $phase "* || -z $cmd ]] && SELECTED+=("$tgt")
done
TARGETS=("${SELECTED[@]}")

# ------------------------------------------------------------------ nginx
# Same directives as deploy/nginx/shoease.conf.in where they matter (sendfile,
# tcp_nopush, upstream keepalive 32, proxy_http_version 1.1, Connection ""),
# but 2 workers (like the servers) and no access log, rate limit, gzip or TLS.
mkdir -p "$TMP/www" "$TMP/nginx/logs" "$TMP/nginx/tmp"
cp "$TMP/hello.html" "$TMP/www/hello"
{
    [[ $EUID == 0 ]] && echo "user root;"
    cat <<EOF
worker_processes $WORKERS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    keepalive_requests 1000000;
    access_log off;
    etag off;
    client_body_temp_path $TMP/nginx/tmp/body;
    proxy_temp_path $TMP/nginx/tmp/proxy;
    fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
    scgi_temp_path $TMP/nginx/tmp/scgi;
EOF
    for tgt in "${TARGETS[@]}"; do
        IFS='|' read -r name phase port cmd sock <<<"$tgt"
        if [[ -z $cmd ]]; then
            cat <<EOF
    server {
        listen 127.0.0.1:$port;
        location = /hello {
            root $TMP/www;
            $([[ $sock == ofc ]] && echo "open_file_cache max=100 inactive=60s; open_file_cache_valid 60s;" || true)
            types { }
            default_type "text/html; charset=utf-8";
            add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
            add_header X-Content-Type-Options nosniff always;
            add_header X-Frame-Options DENY always;
            add_header Referrer-Policy strict-origin-when-cross-origin always;
            add_header Content-Security-Policy "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'" always;
            add_header Permissions-Policy "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()" always;
            add_header Cross-Origin-Opener-Policy same-origin always;
            add_header X-Request-Id \$request_id always;
        }
    }
EOF
        elif [[ -n $sock ]]; then
            cat <<EOF
    upstream up_$port {
        server unix:$sock max_fails=0;
        keepalive 32;
    }
    server {
        listen 127.0.0.1:$port;
        location / {
            proxy_pass http://up_$port;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$http_host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Request-Id \$request_id;
        }
    }
EOF
        fi
    done
    echo "}"
} >"$TMP/nginx/nginx.conf"

# ------------------------------------------------------------------ start
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for tgt in "${TARGETS[@]}"; do
    IFS='|' read -r name phase port cmd sock <<<"$tgt"
    port_free "$port" || { echo "run.sh: port $port is in use on 127.0.0.1 (set BASE_PORT=...)" >&2; exit 1; }
done

declare -A MASTER
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log" \
    >"$TMP/nginx/logs/stdout.log" 2>&1 &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
for tgt in "${TARGETS[@]}"; do
    IFS='|' read -r name phase port cmd sock <<<"$tgt"
    [[ -z $cmd ]] && { MASTER[$name]=$NGINX_PID; continue; }
    # shellcheck disable=SC2086
    $cmd >"$TMP/$port.stats" 2>"$TMP/$port.log" &
    MASTER[$name]=$!
    PIDS+=("$!")
done

url_of() { echo "http://127.0.0.1:$1/hello"; }
for tgt in "${TARGETS[@]}"; do
    IFS='|' read -r name phase port cmd sock <<<"$tgt"
    ok=0
    for _ in $(seq 50); do
        if curl -sf -o /dev/null "$(url_of "$port")"; then ok=1; break; fi
        sleep 0.1
    done
    [[ $ok == 1 ]] || { echo "run.sh: $name did not answer on $port; log:" >&2; cat "$TMP/$port.log" "$TMP/nginx/logs/error.log" >&2 2>/dev/null; exit 1; }
done

# ------------------------------------------------------------------ same bytes?
echo
echo "== responses (must be the same body and the same 8 security headers)"
WANT_HDRS="strict-transport-security x-content-type-options x-frame-options referrer-policy content-security-policy permissions-policy cross-origin-opener-policy x-request-id"
body_sum="$(sha256sum <"$TMP/hello.html" | cut -c1-16)"
printf "   %-34s %6s %7s %-16s %s\n" target body header body-sha256 "security headers / keep-alive"
for tgt in "${TARGETS[@]}"; do
    IFS='|' read -r name phase port cmd sock <<<"$tgt"
    curl -s -D "$TMP/h.$port" -o "$TMP/b.$port" "$(url_of "$port")"
    hb=$(wc -c <"$TMP/h.$port"); bb=$(wc -c <"$TMP/b.$port")
    sum="$(sha256sum <"$TMP/b.$port" | cut -c1-16)"
    missing=""
    for h in $WANT_HDRS; do grep -qi "^$h:" "$TMP/h.$port" || missing+=" $h"; done
    # two requests on one connection: curl reports how many connections it opened
    nconn=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects}\n' "$(url_of "$port")" "$(url_of "$port")" | awk '{ n += $1 } END { print n }')
    printf "   %-34s %6s %7s %-16s %s%s\n" "$name" "$bb" "$hb" "$sum" \
        "$([[ -z $missing ]] && echo "all 8" || echo "MISSING:$missing")" \
        "$([[ $nconn == 1 ]] && echo ", 2 requests on 1 connection" || echo ", NO keep-alive ($nconn connections)")"
    [[ $sum == "$body_sum" ]] || echo "   WARNING: $name body differs from the static file" >&2
done

# ------------------------------------------------------------------ measure
cpu_ticks() { # pid of a master: its CPU ticks + its children's (workers), threads included
    local m="$1" total=0 p f
    for p in "$m" $(cat "/proc/$m/task/$m/children" 2>/dev/null); do
        f="$(cat "/proc/$p/stat" 2>/dev/null)" || continue
        f="${f##*) }"
        # fields after ") ": state is 1st → utime is 12th, stime 13th
        set -- $f
        total=$((total + ${12} + ${13}))
    done
    echo "$total"
}
to_ms() { # "1.23ms" / "850.00us" / "1.02s" → ms
    awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
        printf "%.2f", n }'
}
run_wrk() { # port duration outfile
    wrk -t"$WRK_THREADS" -c"$CONNS" -d"$2" --timeout 5s --latency "$(url_of "$1")" >"$3" 2>&1 || true
}

echo
echo "== load before measuring: $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min), $(nproc) cores"
echo "== warm-up ($WARMUP each)"
for tgt in "${TARGETS[@]}"; do
    IFS='|' read -r name phase port cmd sock <<<"$tgt"
    run_wrk "$port" "$WARMUP" "$TMP/warm.$port"
done

busy_pct() { # share of all cores busy over 1 s while this script sends nothing (= other work)
    local a b
    a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
    awk -v u=$(( (b[1]+b[2]+b[3]+b[6]+b[7]+b[8]) - (a[1]+a[2]+a[3]+a[6]+a[7]+a[8]) )) \
        -v i=$(( (b[4]+b[5]) - (a[4]+a[5]) )) 'BEGIN { printf "%.0f", (u + i) ? 100 * u / (u + i) : 0 }'
}

# Before every measured run: wait (at most QUIET_WAIT s) until other work uses
# at most QUIET_PCT % of the CPUs; the value seen is reported with the result.
wait_quiet() {
    local b waited=0
    while :; do
        b="$(busy_pct)"
        if (( b <= QUIET_PCT || waited >= QUIET_WAIT )); then echo "$b"; return; fi
        sleep 2; waited=$((waited + 3))
    done
}

declare -A RPS P99 CPU ERR BUSY
LOADS=()
for r in $(seq "$RUNS"); do
    echo "== round $r/$RUNS (load avg $(cut -d' ' -f1 /proc/loadavg))"
    for tgt in "${TARGETS[@]}"; do
        IFS='|' read -r name phase port cmd sock <<<"$tgt"
        busy="$(wait_quiet)"
        LOADS+=("$busy")
        BUSY[$name]+="$busy "
        c0=$(cpu_ticks "${MASTER[$name]}")
        out="$TMP/wrk.$port.$r"
        run_wrk "$port" "$DURATION" "$out"
        c1=$(cpu_ticks "${MASTER[$name]}")
        rps=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
        reqs=$(awk '/requests in/ { print $1 }' "$out")
        p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
        errs=$(awk '/Non-2xx/ { n += $NF } /Socket errors/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$out")
        [[ -n $rps ]] || { echo "   $name: wrk failed:"; cat "$out"; rps=0; reqs=0; }
        cpu_us=$(awk -v d=$((c1 - c0)) -v n="${reqs:-0}" -v hz="$HZ" 'BEGIN { printf "%.1f", n ? d * 1e6 / hz / n : 0 }')
        RPS[$name]+="$rps "; P99[$name]+="$p99 "; CPU[$name]+="$cpu_us "; ERR[$name]=$(( ${ERR[$name]:-0} + errs ))
        printf "   %-34s %10.0f req/s  p99 %7s ms  %6s us CPU/req  (other work before: %s%%)%s\n" "$name" "$rps" \
            "$p99" "$cpu_us" "$busy" "$([[ $errs != 0 ]] && echo "  ($errs errors/non-2xx)")"
    done
done

# ------------------------------------------------------------------ report
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
minmax() { tr ' ' '\n' | grep -v '^$' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }'; }

# stop the servers now so they print their connection counters
for tgt in "${TARGETS[@]}"; do
    IFS='|' read -r name phase port cmd sock <<<"$tgt"
    [[ -n $cmd ]] && kill -TERM "${MASTER[$name]}" 2>/dev/null || true
done
for tgt in "${TARGETS[@]}"; do
    IFS='|' read -r name phase port cmd sock <<<"$tgt"
    [[ -n $cmd ]] && wait "${MASTER[$name]}" 2>/dev/null || true
done

nginx_name="nginx static file"
nginx_rps=$(echo "${RPS[$nginx_name]}" | median)
echo
echo "== results: GET /hello, $RUNS runs × $DURATION, wrk -t$WRK_THREADS -c$CONNS, $WORKERS workers each"
echo "   CPU busy with other work in the 1 s before each measured run: median $(echo "${LOADS[*]}" | median)%, max $(echo "${LOADS[*]}" | tr ' ' '\n' | sort -g | tail -1)%"
echo "   nginx $NGINX_VER, libmicrohttpd ${LIBVER[mhd]}, libevent ${LIBVER[evhttp]}$([[ $HAVE_H2O == 1 ]] && echo ", libh2o ${LIBVER[h2o]}")"
printf "\n| %-32s | %9s | %15s | %8s | %10s | %7s | %9s | %10s |\n" target "req/s" "min-max" "p99 ms" "CPU us/req" "x nginx" "req/conn" "other CPU%"
printf "|%s|%s|%s|%s|%s|%s|%s|%s|\n" "$(printf -- '-%.0s' {1..34})" "----------:" "----------------:" "---------:" "-----------:" "--------:" "----------:" "-----------:"
for tgt in "${TARGETS[@]}"; do
    IFS='|' read -r name phase port cmd sock <<<"$tgt"
    m=$(echo "${RPS[$name]}" | median)
    ratio=$(awk -v a="$m" -v b="$nginx_rps" 'BEGIN { printf "%.2f", b ? a / b : 0 }')
    rpc="-"
    [[ -n $cmd && -s "$TMP/$port.stats" ]] && rpc=$(sed -n 's/.*requests_per_connection=//p' "$TMP/$port.stats")
    printf "| %-32s | %9.0f | %15s | %8.2f | %10.1f | %7s | %9s | %10s |\n" "$name" "$m" "$(echo "${RPS[$name]}" | minmax)" \
        "$(echo "${P99[$name]}" | median)" "$(echo "${CPU[$name]}" | median)" "$ratio" "$rpc" "$(echo "${BUSY[$name]}" | minmax)"
    [[ ${ERR[$name]} != 0 ]] && echo "   ^ ${ERR[$name]} errors or non-2xx responses in total"
done
echo
echo "req/conn: requests the server answered per TCP/unix connection it accepted (whole run, warm-up included)."
echo "          In the proxied rows it shows whether nginx's upstream keepalive is honoured (≫1 = yes)."
echo "other CPU%: how busy the CPUs were with other work in the 1 s before each run (min-max)."
echo "CPU us/req: the server's own CPU time (all workers and threads) per request; wrk and, in the"
echo "          proxied rows, nginx use the rest of the 2 cores."
