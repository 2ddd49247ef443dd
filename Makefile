# make        build every edition of the book as PDF and EPUB, and its ONIX record (installing what it needs)
# make test   run the tests
# make lint   check the manuscript's text (publish lint); make check runs it first
# make pdf    print PDF (PDF/X), print cover and screen PDF of every edition
# make onix   each edition's ONIX 3.0 record (e-book and print book), measured on the built files
# make spec   each edition's print order for the shop (print-spec.txt), measured on the print files
# make check  lint, then check the built files: epubcheck, Ace, fonts, onixcheck, clreq typography, print preflight,
#             every PDF drawn and read alike by five engines
# make proof  pictures under build/proof/: EPUB first screens (Chromium), PDF pages and spreads (pypdfium2)
BOOK    ?= manuscript
OUT     ?= build
PYTHON  ?= python3
VENV    := .venv
PUBLISH := $(VENV)/bin/publish

# Output names come from book.yaml: build/<slug>.<edition>.pdf|epub
SLUG     := $(shell sed -n 's/^slug:[[:space:]]*\([a-z0-9-]*\).*/\1/p' $(BOOK)/book.yaml)
EDITIONS := $(shell awk '/^editions:/{f=1;next} /^[^[:space:]#]/{f=0} f && /^  [A-Za-z-]+:/{sub(":.*","",$$1); print $$1}' $(BOOK)/book.yaml)
PDFS  := $(foreach e,$(EDITIONS),$(OUT)/$(SLUG).$(e).pdf)
COVERS  := $(foreach e,$(EDITIONS),$(OUT)/$(SLUG).$(e).cover.pdf)
SCREENS := $(foreach e,$(EDITIONS),$(OUT)/$(SLUG).$(e).screen.pdf)
EPUBS := $(foreach e,$(EDITIONS),$(OUT)/$(SLUG).$(e).epub)
ONIXS := $(foreach e,$(EDITIONS),$(OUT)/$(SLUG).$(e).onix.xml)
SPECS := $(foreach e,$(EDITIONS),$(OUT)/$(SLUG).$(e).print-spec.txt)
# A book's source/ folder (this book's raw text) is not read by the build.
INPUTS := $(shell find $(BOOK) layouts fonts src -type f -not -path '$(BOOK)/source/*' -not -path '*/__pycache__/*' -not -path '*.egg-info/*') pyproject.toml

.PHONY: all pdf epub onix spec test lint check proof bench clean
.DELETE_ON_ERROR:

all: pdf epub onix spec
pdf: $(PDFS) $(COVERS) $(SCREENS)
epub: $(EPUBS)
onix: $(ONIXS)
spec: $(SPECS)

# Debian packages: WeasyPrint's Pango and HarfBuzz subsetter, Java for epubcheck, poppler for pdffonts, qpdf for preflight,
# Ghostscript and MuPDF to draw and read every PDF beside poppler, pdfium and pdf.js (publish engines).
$(VENV)/.system-packages: .ci/system-packages.txt
	bash .ci/install-system-packages
	@mkdir -p $(VENV) && touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.system-packages
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

$(PDFS) $(COVERS) $(SCREENS) &: $(INPUTS) $(VENV)/.installed
	$(PUBLISH) build --book $(BOOK) --out $(OUT) --format pdf

$(EPUBS) &: $(INPUTS) $(VENV)/.installed
	$(PUBLISH) build --book $(BOOK) --out $(OUT) --format epub

# The ONIX records are measured on the built files: page count, trim, spine.
$(ONIXS) &: $(PDFS) $(COVERS) $(EPUBS) $(INPUTS)
	$(PUBLISH) onix --book $(BOOK) --out $(OUT)

# The print order: figures and MD5s from the print files themselves.
$(SPECS) &: $(PDFS) $(COVERS) $(INPUTS)
	$(PUBLISH) print-spec --book $(BOOK) --out $(OUT)

# Ace by DAISY for the accessibility check; it runs in Debian's chromium, so Puppeteer downloads nothing.
node_modules/.installed: package.json package-lock.json $(VENV)/.system-packages
	PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	touch $@

test: $(VENV)/.installed node_modules/.installed
	$(VENV)/bin/pytest -q

# The lint runs first: a manuscript with lint errors is not built.
lint: $(VENV)/.installed
	$(PUBLISH) lint --book $(BOOK)

check: lint $(PDFS) $(COVERS) $(SCREENS) $(EPUBS) $(ONIXS) node_modules/.installed
	$(PUBLISH) check $(PDFS) $(COVERS) $(SCREENS) $(EPUBS) $(ONIXS)
	$(PUBLISH) proof --book $(BOOK) $(PDFS)
	$(PUBLISH) preflight $(PDFS) $(COVERS)
	$(PUBLISH) engines --book $(BOOK) $(PDFS) $(COVERS) $(SCREENS)

# Pictures to look at: EPUB first screens, and per print PDF its pages, a contact sheet of its spreads
# (trim and bleed drawn) and its fullest spread, small (the README's pictures are copies of those: docs/);
# per cover, <slug>.<edition>.covers.png: the printed cover, as its output intent prints it, beside the EPUB's.
proof: $(EPUBS) $(PDFS) $(COVERS)
	$(PUBLISH) snapshot --out $(OUT)/proof $(EPUBS)
	$(PUBLISH) sheets --out $(OUT)/proof $(PDFS) $(COVERS)

# Speed: this book, generated books of 100,000 and 1,000,000 characters and one of 5,000 footnotes, beside
# WeasyPrint alone, Typst and pandoc (if installed: apt-get install pandoc), with issues 7's and 14's targets;
# figures also in build/bench/*.json. The 1M book takes about 20 minutes: `make bench BENCH_BOOKS="this-book 100k"`
# measures those only.
bench: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -e '.[test,bench]'
	$(VENV)/bin/python bench/run.py $(BENCH_BOOKS)

clean:
	rm -rf $(OUT)
