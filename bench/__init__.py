"""Casework's benchmark (`make bench`): every figure measured side by side in one run.

Sections: `startup` (imports and the CLI's read commands), `orchestration` (a case through the
real stack against a bare Prefect flow with the same suspends and task runs, and against the
same business steps as plain function calls; the latency a clerk feels; throughput with one
and two workers), `volume` (10,000 open cases; a city's 100,000 cases and 1,000,000 contacts)
and `output` (emails per second to a local SMTP server, PDF letters per second).
"""
