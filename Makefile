# Two commands for a new user:
#   make demo   set up .venv and run the coaching demo on the bundled sample clips (no camera)
#   make test   set up .venv with the dev tools, check the model bundle, lint, run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_OUT := out/demo

.PHONY: demo test lint bench model clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	@mkdir -p $(DEMO_OUT)
	$(BIN)/coach extract samples/tfjs_squats/pose_squats.mp4 -o $(DEMO_OUT)/squats.npz

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check coach tests bench models

test: lint
	$(BIN)/python models/build_pose_model.py --check
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/pose_throughput.py

# Rebuild models/pose_landmarker_full.task from the mediapipe 0.10.21 wheel (downloads ~140 MB).
model:
	bash models/build.sh

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
