"""Executes one notebook through a Jupyter kernel for `mechlab run` (kernel/cli/runCommand.ts).

Runs every code cell with nbclient, writes the executed notebook (also when a cell fails: it
then holds the outputs up to and including the failing cell) and its HTML export (nbconvert), and
prints one JSON line on stdout saying how it went:

  {"ok": true, "codeCells": 4, "executed": 4}
  {"ok": false, "codeCells": 4, "executed": 2,
   "failure": {"index": 3, "source": "...", "ename": "...", "evalue": "...", "traceback": [...]}}

"index" counts every cell of the notebook (markdown included) from 0, as nbformat does.
The kernel is found by name through Jupyter's search path (the caller sets JUPYTER_PATH).

The executed notebook keeps the widget state nbclient recorded (metadata.widgets), so a frontend
with mechlab's widget extension shows the widgets again. The HTML export renders every widget from
its own self-contained text/html instead, so the page works offline (see html_export).
"""
import argparse
import copy
import json
import math
import os
import re
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert import HTMLExporter
from traitlets.config import Config

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nbconvert")
# Markdown math as MathJax reads it: $…$, $$…$$, \(…\), \[…\], \begin{…}.
MATH = re.compile(r"\$[^$\n]+\$|\$\$|\\\(|\\\[|\\begin\{")


def has_math(nb):
    """True when a markdown cell holds math or an output is LaTeX: only then does the page load MathJax."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and MATH.search(cell.source):
            return True
        for output in cell.get("outputs", []):
            if "text/latex" in output.get("data", {}):
                return True
    return False


def html_export(nb, name):
    """The notebook as one HTML page that renders offline.

    nbconvert's own page shows widget outputs through @jupyter-widgets/html-manager, fetched from
    a CDN (unpkg) with require.js, whenever the notebook carries widget state. mechlab's widget
    outputs each have a self-contained text/html as well, so here the widget view is taken out of
    the display priority and the widget state out of the copy that is exported: every widget
    output renders from its text/html. The "mechlab" template (nbconvert/mechlab/) is nbconvert's
    "lab" page without the require.js and widget-manager scripts, with MathJax only where there
    is math.
    """
    exported = copy.deepcopy(nb)
    exported.metadata.pop("widgets", None)
    priority = [mime for mime in HTMLExporter().default_config.NbConvertBase.display_data_priority if mime != WIDGET_VIEW_MIME]
    config = Config({"NbConvertBase": {"display_data_priority": priority}})
    exporter = HTMLExporter(config=config, template_name="mechlab", extra_template_basedirs=[TEMPLATES])
    resources = {"metadata": {"name": name}, "mechlab_has_math": has_math(nb)}
    html, _ = exporter.from_notebook_node(exported, resources=resources)
    return html


def error_output(cell):
    """The cell's `error` output, if it has one."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return output
    return None


def describe_failure(nb, index, exc, timeout):
    cell = nb.cells[index] if index is not None and 0 <= index < len(nb.cells) else None
    failure = {"index": index, "source": cell.source if cell is not None else ""}
    output = error_output(cell) if cell is not None else None
    if isinstance(exc, CellTimeoutError):
        failure.update(ename="Timeout", evalue=f"the cell ran longer than --timeout {timeout:g} s", traceback=[])
    elif isinstance(exc, DeadKernelError):
        failure.update(ename="DeadKernel", evalue="the kernel died while running the cell", traceback=[])
    elif output is not None:
        failure.update(ename=output.get("ename", ""), evalue=output.get("evalue", ""), traceback=output.get("traceback", []))
    elif isinstance(exc, CellExecutionError):
        failure.update(ename=exc.ename, evalue=exc.evalue, traceback=[])
    else:
        failure.update(ename=type(exc).__name__, evalue=str(exc), traceback=[])
    return failure


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook")
    parser.add_argument("--out-ipynb", required=True)
    parser.add_argument("--out-html", required=True)
    parser.add_argument("--kernel", default="mechlab")
    parser.add_argument("--display-name", default="TypeScript (mechlab)")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per cell")
    parser.add_argument("--startup-timeout", type=int, default=120)
    args = parser.parse_args()

    nb = nbformat.read(args.notebook, as_version=4)
    current = {"index": None}

    def on_cell_start(cell, cell_index, **_):
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=math.ceil(args.timeout) if args.timeout else None,
        startup_timeout=args.startup_timeout,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}},
        on_cell_start=on_cell_start,
    )
    failure = None
    try:
        client.execute()
    except Exception as exc:  # any failure is reported against the cell that was running
        failure = describe_failure(nb, current["index"], exc, args.timeout)
        client.set_widgets_metadata()
    nb.metadata["kernelspec"] = {"name": args.kernel, "display_name": args.display_name, "language": "typescript"}

    os.makedirs(os.path.dirname(os.path.abspath(args.out_ipynb)), exist_ok=True)
    nbformat.write(nb, args.out_ipynb)
    html = html_export(nb, os.path.splitext(os.path.basename(args.notebook))[0])
    with open(args.out_html, "w", encoding="utf-8") as f:
        f.write(html)

    code_cells = sum(1 for cell in nb.cells if cell.cell_type == "code" and cell.source.strip())
    result = {"ok": failure is None, "codeCells": code_cells, "executed": client.code_cells_executed}
    if failure is not None:
        result["failure"] = failure
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
