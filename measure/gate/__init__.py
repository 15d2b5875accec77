"""Regression gating: result sets, the gate's rule, expected-values files, history, change points.

``measure gate`` compares a candidate run with a baseline run (or committed expected values) and
exits 0 (pass), 1 (regression) or 2 (usage or infrastructure error); ``measure history`` keeps
runs in SQLite and finds change points; the pytest plugin (measure.pytest_plugin) and suite files
(measure.gate.suite) produce the result sets.

Modules: resultset (the files a gate reads and writes), compare (the rule, pure functions),
expectations (committed expected values), bench (measuring named benchmarks), suite (plain-file
suites), report (text, Markdown, JUnit), history (SQLite), changepoint (PELT), calibrated (across
platforms through calibration profiles), cli (``measure gate`` and ``measure history``). Nothing is
imported here, so that registering the subcommands costs the ``measure`` command nothing.
"""
