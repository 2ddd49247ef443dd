"""Shared fixtures: each book is built once per test session, with real WeasyPrint, OpenCC and fonts."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from publish import build as pipeline

ROOT = Path(__file__).resolve().parents[1]
MANUSCRIPT = ROOT / "manuscript"
SAMPLE = ROOT / "tests" / "books" / "sample"
SEED = MANUSCRIPT / "source" / "000_5e500f778cbca4bf.txt"   # the raw text the chapters were made from
EPOCH = "1700000000"


def build_book(book: Path, out: Path, **kwargs) -> dict[tuple[str, str], Path]:
    old = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = EPOCH
    try:
        outputs = pipeline.build(book, out, progress=lambda _m: None, **kwargs)
    finally:
        if old is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = old
    return {(o.edition, o.format): o.path for o in outputs}


@pytest.fixture(scope="session")
def manuscript_build(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """This book, every edition in every format: {(edition, format): path}."""
    return build_book(MANUSCRIPT, tmp_path_factory.mktemp("manuscript"))


@pytest.fixture(scope="session")
def sample_build(tmp_path_factory) -> dict[tuple[str, str], Path]:
    return build_book(SAMPLE, tmp_path_factory.mktemp("sample"))
