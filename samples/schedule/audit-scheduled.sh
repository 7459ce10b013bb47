#!/bin/sh
# One scheduled fleet audit: runs `audit run "$@"` and turns its exit code into the scheduler's verdict,
# the same way for cron, Kubernetes and CI (systemd does the same with SuccessExitStatus=1 3).
# The table (README.md in this folder): 0, 1 and 3 mean the audit ran and its reports are written, so the
# job succeeded (findings are reported by the email, metrics.prom and junit.xml, not by a failed job);
# every other code is a failed job.  AUDIT names the audit command (default: audit on PATH).
AUDIT="${AUDIT:-audit}"
"$AUDIT" run "$@"
code=$?
case $code in
  0) meaning="every audited record passed" ;;
  1) meaning="findings: see the reports" ;;
  3) meaning="some records could not be audited (Stripe unreachable or a key rejected): see the reports" ;;
  2) meaning="usage or configuration error: nothing audited, no report written" ;;
  4|5) meaning="the reports were written but the email could not be sent" ;;
  74) meaning="an output file could not be written (disk full?): the previous reports are unchanged" ;;
  70) meaning="internal error (a bug): please report it" ;;
  129|130|143) meaning="interrupted (SIGHUP/SIGINT/SIGTERM): this run's reports are whole or not written" ;;
  *) meaning="unexpected exit code" ;;
esac
echo "plenigo-stripe-audit: exit $code: $meaning" >&2
case $code in
  0|1|3) exit 0 ;;
  *) exit "$code" ;;
esac
