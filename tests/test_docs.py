"""docs/results.md is generated from the result files under docs/: it must match them."""

import importlib.util
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_results_page_is_what_the_result_files_give():
    spec = importlib.util.spec_from_file_location("build_results", DOCS / "build_results.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "results.md").read_text() == module.build(), "run: python docs/build_results.py"
