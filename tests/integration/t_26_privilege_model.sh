#!/bin/bash
# t_26_privilege_model.sh - a model-based test of the delegation rule
# (issue 21): privilege_model.py drives $PRIVMODEL_ACTIONS (default
# 2000) random administrative actions by random callers straight into
# secretd's socket, predicts every answer and everyone's permissions
# with a model, and checks after each action that the daemon agrees and
# that nobody gained a permission the caller did not hold.  The seed is
# printed; PRIVMODEL_SEED=N replays a run.
. "$(dirname "$0")/lib.sh"
test_init

describe "random administrative actions keep everyone's permissions as modelled, and monotone"
start=$SECONDS
RUN_TIMEOUT=${PRIVMODEL_TIMEOUT:-300} run python3 "$SD_LIB_DIR/privilege_model.py" \
	"$SECRETD_SOCKET" "$W/admin.pub" "$T" "${PRIVMODEL_ACTIONS:-2000}"
printf '%s' "$OUT" | sed 's/^/    /'
printf '%s' "$ERR" | sed 's/^/    /' >&2
expect_rc 0
expect_out_match '^all held \(seed [0-9]+\)$'
echo "    ($((SECONDS - start)) s)"

done_testing
