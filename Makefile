# make test: create .venv, install everything, run the unit tests and execute every notebook.
# make book: the same set-up, then build the HTML book (every notebook executed, warnings fatal).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test book lint sync clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check src tests tools conftest.py
	$(BIN)/python -m pytest -n 2 --durations=0 --durations-min=0.5

book: $(STAMP)
	$(BIN)/jupyter-book build . --all -W --keep-going
	@echo "Open: file://$(CURDIR)/_build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check src tests tools conftest.py

# After editing a chapter: write the shared setup cell into every notebook, strip outputs.
sync: $(STAMP)
	$(BIN)/python tools/sync_notebooks.py

clean:
	rm -rf _build $(VENV)
