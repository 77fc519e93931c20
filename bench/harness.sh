# Sourced by bench/run.sh and bench/national.sh (after they set ROOT, SHARED, WORK and GP): check what both
# need, then refresh the shared harness's code in $WORK, keeping its data (.pgdata, venvs) between runs.
[ -x "$GP" ] || { echo "run 'make demo' (or 'make test') first: $GP is missing" >&2; exit 2; }
[ -d "$SHARED" ] || { echo "the shared harness is missing: $SHARED" >&2; exit 2; }
mkdir -p "$WORK"
(cd "$SHARED" && tar cf - --exclude=.pgdata --exclude='.venv*' --exclude=run --exclude=results/raw .) | (cd "$WORK" && tar xf -)
