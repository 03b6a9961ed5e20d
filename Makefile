# Two commands: `make demo` (set up, then run the default experiment) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# torch is pinned to the CPU build this project's CI installs from local disk; the code itself
# runs on any torch >= 2.3 (GPU machines bring their own).
TORCH_PIN ?= torch==2.13.0

.PHONY: demo test setup lint bench bench-lm bench-dream bench-transitions showcase clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check "$(TORCH_PIN)"
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	$(BIN)/python -m generative.text.shakespeare --quiet
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/emergent run experiments/commons.yaml

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m benchmarks.env_speed

# Our language model against Hugging Face's GPT-2 (installs the optional `bench` extra).
bench-lm: $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[bench]"
	$(BIN)/python -m benchmarks.lm_speed

# The world models' dreams against the real worlds' batched cores (imagined agent-steps/s).
bench-dream: $(STAMP)
	$(BIN)/python -m benchmarks.dream_speed

# The transition detector on synthetic curves with known answers, and its speed against ruptures'.
bench-transitions: $(STAMP)
	$(BIN)/python -m benchmarks.transition_accuracy

# Five emergences side by side, each with denser evaluations (its curves are searched for
# transitions): Cleanup as a sweep of 3 seeds (its roles counted across seeds), all three at
# once on half a core each, beside the other four one after another, so that no core idles
# while the last seed trains; then the gallery (checked in headless Chromium when present).
SHOWCASE ?= runs/showcase
showcase: $(STAMP)
	$(BIN)/emergent sweep --quiet --runs-dir $(SHOWCASE) experiments/cleanup.yaml \
	  sweep.seeds=3 sweep.resources.cpu=0.5 train.eval_every=1e5 train.eval_envs=8 & \
	cleanup=$$!; \
	printf '%s\n' \
	  "experiments/grokking.yaml" \
	  "experiments/commons.yaml train.eval_every=1e4" \
	  "experiments/signalling.yaml train.eval_every=75000" \
	  "experiments/induction_heads.yaml" \
	| xargs -L 1 $(BIN)/emergent run --quiet --runs-dir $(SHOWCASE); others=$$?; \
	wait $$cleanup && test $$others -eq 0
	if command -v chromium >/dev/null; then \
	  $(BIN)/emergent gallery $(SHOWCASE) --screenshots $(SHOWCASE)/screenshots; \
	else $(BIN)/emergent gallery $(SHOWCASE); fi

clean:
	rm -rf $(VENV) runs
