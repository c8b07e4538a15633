# make test: create .venv, install everything, run the unit tests and execute every notebook.
# make book: the same set-up, then build the HTML book (every notebook executed, warnings fatal).
# make times: the same set-up, then time every notebook against its budget (a benchmark).
# make check-html: after make book, every page in headless Chromium with the network cut off.
# make bench: the same set-up, then ours against torch for every layer family (a few minutes).
# make student: the same set-up, then the student notebooks and nbgrader sources of every chapter.
PYTHON ?= python3
# Precomputed figures per explore() widget in the built book (0: a static default figure only).
FRAMES ?= 24
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test book check-html times bench lint sync student clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check src tests tools benchmarks scripts conftest.py
	$(BIN)/python -m pytest -n 2 --durations=0 --durations-min=0.5

# A failed execution leaves its traceback in _build/html/reports/: print it, naming notebook and cell.
# The warm-up imports build matplotlib's font cache and load torch once, before any notebook's
# first cell would pay for it on a fresh machine.
book: $(STAMP)
	$(BIN)/python -c "import matplotlib.pyplot, torch, deepglossary"
	@mkdir -p _build && rm -f _build/frames.log
	@OPENBLAS_NUM_THREADS=1 DG_BOOK_FRAMES=$(FRAMES) DG_FRAMES_LOG=$(CURDIR)/_build/frames.log \
	  $(BIN)/jupyter-book build . --all -W --keep-going \
	  || { find _build/html/reports -name '*.log' 2>/dev/null | while read -r log; do \
	         echo "==== failed: $$log"; cat "$$log"; done; exit 1; }
	@test ! -f _build/frames.log || awk -F'\t' '{n++; f+=$$2; t+=$$3} END {printf "%d widgets, %d precomputed frames, %.0f s drawing them\n", n, f, t}' _build/frames.log
	@echo "Open: file://$(CURDIR)/_build/html/index.html"

# The built book in headless Chromium with no network (formulas, images, links, solutions,
# widgets, console errors); screenshots in _build/screenshots. Needs Debian's chromium.
check-html: $(STAMP)
	$(BIN)/python tools/check_html.py _build/html --screenshots _build/screenshots

times: $(STAMP)
	$(BIN)/python benchmarks/notebook_times.py

# Ours against torch on the CPU, every layer family (benchmarks/results/bench.csv, the appendix).
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/ruff check src tests tools benchmarks scripts conftest.py

# The instructor kit: every chapter as a student notebook (solutions removed, coding exercises
# stubbed) in _build/student/, and as an nbgrader source in _build/nbgrader/source/.
student: $(STAMP)
	$(BIN)/python tools/student.py

# After editing a chapter: write the shared setup cell into every notebook, strip outputs.
sync: $(STAMP)
	$(BIN)/python tools/sync_notebooks.py

clean:
	rm -rf _build $(VENV)
