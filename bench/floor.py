"""The floor: WeasyPrint alone on the pipeline's final print HTML (same base URL and PDF variant), no
extension, no URL fetcher, no post-processing. Prints JSON: seconds for parsing, layout, writing; pages."""
import json
import sys
import time
from pathlib import Path

import weasyprint

html, meta = Path(sys.argv[1]), json.loads(Path(sys.argv[1]).with_suffix(".json").read_text())
start = time.perf_counter()
document = weasyprint.HTML(string=html.read_text(encoding="utf-8"), base_url=meta["base_url"])
parsed = time.perf_counter()
rendered = document.render()
laid_out = time.perf_counter()
data = rendered.write_pdf(pdf_variant=meta["variant"])
end = time.perf_counter()
print(json.dumps({"parse": parsed - start, "layout": laid_out - parsed, "write": end - laid_out,
                  "total": end - start, "pages": len(rendered.pages), "bytes": len(data)}))
