#!/bin/sh
# One scheduled fleet audit: runs `audit run "$@"` and turns its exit code into the scheduler's verdict,
# the same way for cron, Kubernetes and CI (systemd does the same with SuccessExitStatus=1 3).
# The table (README.md in this folder): 0, 1 and 3 mean the audit ran and its reports are written, so the
# job succeeded (findings are reported by the email, metrics.prom and junit.xml, not by a failed job);
# every other code is a failed job.  AUDIT names the audit command (default: audit on PATH).
#
# A stop request to this script (SIGTERM from Kubernetes or a CI runner, SIGHUP, Ctrl-C) is passed on to
# the audit, which then stops cleanly (exit 143/129): otherwise the shell would die and leave the audit
# running on its own, and as a container's PID 1 it would ignore SIGTERM altogether. The audit runs in the
# background for that (a shell runs traps only between commands); a background job ignores SIGINT, so
# SIGINT is passed on as SIGTERM.
AUDIT="${AUDIT:-audit}"
"$AUDIT" run "$@" &
child=$!
interrupted=
trap 'interrupted=1; kill -TERM "$child" 2>/dev/null' TERM INT
trap 'interrupted=1; kill -HUP "$child" 2>/dev/null' HUP
code=
while :; do
  interrupted=
  wait "$child"
  status=$?
  if [ "$status" -eq 127 ] && [ -n "$code" ]; then break; fi  # already reported: keep the code we have
  code=$status
  # a trapped signal interrupts `wait` (status > 128): wait again for the audit's own exit code
  if [ -z "$interrupted" ] || [ "$status" -le 128 ]; then break; fi
done
case $code in
  0) meaning="every audited record passed" ;;
  1) meaning="findings: see the reports" ;;
  3) meaning="some records could not be audited (Stripe unreachable or a key rejected): see the reports" ;;
  2) meaning="usage or configuration error: nothing audited, no report written" ;;
  4|5) meaning="the reports were written but the email could not be sent" ;;
  70) meaning="internal error (a bug): please report it" ;;
  74) meaning="an output file could not be written (disk full, I/O error): the previous files are unchanged" ;;
  129|130|143) meaning="interrupted (SIGHUP/SIGINT/SIGTERM): this run's files are complete or absent" ;;
  *) meaning="unexpected exit code" ;;
esac
echo "plenigo-stripe-audit: exit $code: $meaning" >&2
case $code in
  0|1|3) exit 0 ;;
  *) exit "$code" ;;
esac
