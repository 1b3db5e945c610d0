#!/bin/sh
# usage: mta_stop.sh [BASE=${TMPDIR:-/tmp}/mailroom-anchor-smtp/mta]
# Stops both daemons and waits (at most 5 s) until their master processes
# have exited, rather than sleeping a fixed time.
BASE=${1:-${TMPDIR:-/tmp}/mailroom-anchor-smtp/mta}
pids=$(cat "$BASE/spool/pid/master.pid" "$BASE/dovecot-run/master.pid" 2>/dev/null)
postfix -c "$BASE/etc" stop >>"$BASE/start.log" 2>&1 </dev/null
dovecot -c "$BASE/dovecot.conf" stop >>"$BASE/start.log" 2>&1 </dev/null
i=0
for pid in $pids; do
  while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; i=$((i+1)); done
done
echo stopped
