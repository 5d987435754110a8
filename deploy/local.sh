#!/bin/sh
# One machine, the layout of several: Redis, one Celery worker, two app replicas and nginx in
# front of them, on free local ports; Ctrl-C stops them all. Logs and Redis' data stay in the
# folder it prints. Run from anywhere: deploy/local.sh   (NGINX=/path/to/nginx to choose one)
set -eu
cd "$(dirname "$0")/.."
PY=.venv/bin/python
NGINX=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}
dir=$(mktemp -d "${TMPDIR:-/tmp}/tinyvgg-deploy.XXXXXX")
pids=""
stop() {
    trap - EXIT INT TERM
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    [ -z "${worker:-}" ] || kill -QUIT "$worker" 2>/dev/null || true  # cold: not after its run
    wait
    echo "stopped; logs in $dir"
}
trap stop EXIT
trap 'exit 130' INT TERM
start() {  # start LOG CMD...: in the background, its output in $dir/LOG
    log=$1; shift
    "$@" >"$dir/$log" 2>&1 &
    pids="$pids $!"
}
wait_health() {  # wait_health URL: until Streamlit (or nginx in front) answers its health check
    n=0
    until $PY -c "import urllib.request as u; u.urlopen('$1/_stcore/health', timeout=2)" \
        2>/dev/null; do
        n=$((n + 1))
        [ $n -lt 120 ] || { echo "$1 did not start; see the logs in $dir" >&2; exit 1; }
        sleep 0.5
    done
}

# four ports at once, so none is handed out twice
set -- $($PY -c 'import socket
s = [socket.socket() for _ in range(4)]
for x in s: x.bind(("127.0.0.1", 0))
print(*(x.getsockname()[1] for x in s))')
redis_port=$1 app1=$2 app2=$3 web=$4
export TINYVGG_BROKER="redis://127.0.0.1:$redis_port/0"

mkdir "$dir/redis"
start redis.log redis-server --port "$redis_port" --bind 127.0.0.1 --appendonly yes \
    --appendfsync always --dir "$dir/redis"
start worker.log $PY -m tinyvgg.jobs worker
worker=$!
for port in $app1 $app2; do
    start "app-$port.log" .venv/bin/streamlit run app.py --server.port "$port" \
        --server.address 127.0.0.1 --server.headless true
done
sed -e "s|\${TINYVGG_LISTEN}|127.0.0.1:$web|" \
    -e "s|\${TINYVGG_UPSTREAMS}|server 127.0.0.1:$app1; server 127.0.0.1:$app2;|" \
    deploy/nginx.conf.template >"$dir/nginx.conf"
start nginx.log "$NGINX" -p "$dir/" -e stderr -c "$dir/nginx.conf" -g 'daemon off;'

wait_health "http://127.0.0.1:$app1"
wait_health "http://127.0.0.1:$app2"
wait_health "http://127.0.0.1:$web"
echo "TinyVGG at http://127.0.0.1:$web (replicas :$app1 :$app2, Redis :$redis_port); Ctrl-C stops"
wait
