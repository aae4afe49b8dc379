# Set-up and everyday commands. Everything the project needs is installed from its own files:
# uv (pinned) into .tools/, then the locked dependencies (uv.lock) into .venv/.
UV_VERSION := 0.13.9
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: install browser demo test lint unit up down

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

install: $(UV)
	$(UV) sync --frozen --quiet

demo: install
	.venv/bin/casework demo

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

# The browser test drives Debian's chromium; a CJK font makes the screenshots readable.
browser:
	@if command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qiE "wqy|noto.*cjk"; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-wqy-zenhei >/dev/null; \
	else echo "chromium or a CJK font is missing (install as root: chromium fonts-wqy-zenhei)"; fi

test: lint browser
	.venv/bin/python -m pytest

unit: install
	.venv/bin/python -m pytest -m "unit or flow"

up: install
	.venv/bin/casework up

down: install
	.venv/bin/casework down
