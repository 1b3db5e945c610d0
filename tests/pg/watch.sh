#!/bin/sh
# Stops the tests' private PostgreSQL cluster once the test process that
# started it is gone, then removes its directory (tests/it/common/pg.rs).
# usage: watch.sh TEST_PID BIN_DIR DATA_DIR RUN_AS|"" DIR
pid=$1 bin=$2 data=$3 runas=$4 dir=$5
while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
if [ -n "$runas" ]; then
  runuser -u "$runas" -- "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1
else
  "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1
fi
rm -rf "$dir"
