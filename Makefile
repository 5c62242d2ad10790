# The one interface to Rapport: the README, CI and developers call these targets.
PYTHON ?= python3
VENV := .venv
UV := .tools/bin/uv
UV_VERSION := 0.13.8
export UV_PYTHON_DOWNLOADS := never
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: setup run test lint bench-replies pay-page synth validate-clients clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# aws-cdk-lib and its dependency aws-cdk.cloud-assembly-schema both ship
# aws_cdk/cloud_assembly_schema/__init__.py, and whichever the installer unpacks last wins
# (aws/aws-cdk#38482). Only aws-cdk-lib's copy names the types aws-cdk-lib's synth returns, so it
# is reinstalled on its own after the sync; tests/infra/test_building_blocks.py checks the result.
$(VENV)/.synced: $(UV) pyproject.toml uv.lock Makefile
	$(UV) sync --frozen --python $(PYTHON)
	$(UV) sync --frozen --python $(PYTHON) --reinstall-package aws-cdk-lib
	@touch $@

setup: $(VENV)/.synced

run: setup
	$(VENV)/bin/python -m rapport_local.main $(ARGS)

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -n 2 $(ARGS)

lint: setup
	$(VENV)/bin/ruff check .

synth: setup
	$(VENV)/bin/python infra/app.py

validate-clients: setup
	$(VENV)/bin/python -m rapport_infra.validate_clients $(ARGS)

bench-replies: setup
	$(VENV)/bin/python -m rapport.analysis.benchmark data/replies-dev.jsonl

pay-page: setup
	$(VENV)/bin/python -m rapport_local.pay_page $(ARGS)

clean:
	rm -rf .tools $(VENV) cdk.out reports
