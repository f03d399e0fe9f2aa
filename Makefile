# Two commands for a new user:
#   make demo   set up .venv and run the coaching demo on the bundled sample clips (no camera)
#   make test   set up .venv with the dev tools, check the model bundle, lint and type-check,
#               run the tests
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

# Attempts, never a reference scored against itself: the lunge-and-reach filmed by two other
# cameras than its reference's (two sessions, with a pain check-in: the history has a trend),
# and the squat clip coached as mountain pose (standing tall), whose forward lean as she squats
# gets a true cue. Then the history and its plot, a batch report over the lunge's other views
# and two clips of movements the library does not hold (not judged: no score, and why), and a
# reference sheet.
demo: $(VENV)/.installed
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	$(BIN)/coach live --exercise lunge-and-reach --source samples/pose2sim_lunge/cam02.mp4 \
		--headless --output $(DEMO_OUT) --db $(DEMO_OUT)/history.sqlite3 \
		--pain-before 3 --pain-after 2
	$(BIN)/coach live --exercise lunge-and-reach --source samples/pose2sim_lunge/cam03.mp4 \
		--headless --output $(DEMO_OUT) --db $(DEMO_OUT)/history.sqlite3 \
		--pain-before 2 --pain-after 2
	$(BIN)/coach live --exercise mountain-pose --source samples/tfjs_squats/pose_squats.mp4 \
		--headless --output $(DEMO_OUT) --db $(DEMO_OUT)/history.sqlite3
	$(BIN)/coach history --db $(DEMO_OUT)/history.sqlite3 --plot $(DEMO_OUT)/history.png
	$(BIN)/coach batch samples/pose2sim_lunge/cam02.mp4 samples/pose2sim_lunge/cam03.mp4 \
		samples/pose2sim_lunge/cam04.mp4 samples/mediapipe_dance samples/sports2d_multi \
		--exercise auto -o $(DEMO_OUT)/batch
	$(BIN)/coach references show lunge-and-reach -o $(DEMO_OUT)/reference-lunge-and-reach.png
	@echo "demo outputs in $(DEMO_OUT)/: open batch/report.html and the .mp4 files in a browser"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check coach tests bench models
	$(BIN)/mypy

test: lint
	$(BIN)/python models/build_pose_model.py --check
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/pose_throughput.py
	$(BIN)/python bench/live_loop.py
	$(BIN)/python bench/align_speed.py
	$(BIN)/python bench/score_matrix.py
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/batch_throughput.py

# Thousands of generated corrupt and hostile inputs (landmark files, videos, image folders,
# exercise folders and archives, history databases, option values) through the real coach
# command; prints the counts of tracebacks, hangs, memory blow-ups and writes outside the
# output folder (a sample of every kind runs in make test).
.PHONY: fuzz
fuzz: $(VENV)/.installed-dev
	$(BIN)/python -m tests.fuzz.runner

# Rebuild models/pose_landmarker_full.task from the mediapipe 0.10.21 wheel (downloads ~140 MB).
model:
	bash models/build.sh

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache .mypy_cache
