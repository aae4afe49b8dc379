# Set-up and everyday commands. Everything the project needs is installed from its own files:
# uv (pinned) into .tools/, then the locked dependencies (uv.lock) into .venv/.
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: install printing test-packages demo test lint unit faults bench postgres up down

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on CI machines)
# Python never caches it, and every case-run process would compile Prefect, WeasyPrint and
# the project from source again (seconds of CPU each time).
install: $(UV)
	$(UV) sync --frozen --quiet --compile-bytecode
	.venv/bin/python -m compileall -q -j 0 casework models gateways tasks flows usecases cli web stack bench >/dev/null

demo: install printing
	.venv/bin/casework demo

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

# Debian packages: WeasyPrint needs Pango and a CJK font to print letters, and HarfBuzz's font
# subsetter to print them in 0.05 s rather than 1 s (casework/printing.py); the tests also drive
# chromium, read PDFs back with pdftotext (poppler-utils), poll a real IMAP server (Dovecot) and
# run the flow tier again on a private PostgreSQL server. Installed when missing, as root.
PRINT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-wqy-zenhei
TEST_PACKAGES := $(PRINT_PACKAGES) chromium poppler-utils dovecot-imapd postgresql
define apt_ensure
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else echo "missing Debian packages (install as root): $$missing"; fi
endef

printing:
	$(call apt_ensure,$(PRINT_PACKAGES))

test-packages:
	$(call apt_ensure,$(TEST_PACKAGES))

# Every tier, the flow tier on both case databases (SQLite, the embedded default, and a private
# PostgreSQL server; tests/conftest.py). Two test processes (pytest-xdist), each with its own
# stack, home and ports; one module per process at a time, longest first (tests/conftest.py).
# The suite keeps both cores busy (case runs are processes of their own); a third process only
# added its stack's upkeep: 810 s with three, 770 s with two (2026-12-05). `pytest -n0` runs
# serially.
PARALLEL := -n 2 --dist loadfile --no-loadscope-reorder

test: lint test-packages
	.venv/bin/python -m pytest $(PARALLEL)

unit: install test-packages
	.venv/bin/python -m pytest -m "unit or flow"

# The long fault run on a private stack: 30 cases under 100+ SIGKILLs, every targeted kill,
# mail-server outages and a Prefect server restart three times each; prints the table.
faults: install test-packages
	.venv/bin/python -m tests.faults

# The benchmark (bench/): a private stack, every figure side by side in one run; prints the
# table and writes bench/results.json. `--smoke` runs a few of everything.
bench: install test-packages
	.venv/bin/python -m bench
	.venv/bin/python -m bench.table

# A local PostgreSQL cluster for the case database and Prefect's server (a district's set-up):
# prints the two settings to export before `casework up`. Debian's server installed when missing.
postgres: install
	$(call apt_ensure,postgresql)
	.venv/bin/python -m stack.postgres start

up: install
	.venv/bin/casework up

down: install
	.venv/bin/casework down
