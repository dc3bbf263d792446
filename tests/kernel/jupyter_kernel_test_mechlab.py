"""Debian's jupyter_kernel_test suite against the mechlab kernel, with every test enabled.

Run by tests/kernel/conformance.test.ts as

    JUPYTER_PATH=<prefix>/share/jupyter /usr/bin/python3 -m unittest -v jupyter_kernel_test_mechlab

from this folder, after `mechlab install --prefix <prefix>`. Every sample the suite reads is set
(an empty one skips its test). The suite validates every message it sees against the messaging
spec's schemas. The kernel's own stdout/stderr go to $MECHLAB_KERNEL_LOG (default: discarded) so
they cannot interleave with unittest's report.
"""
import os
import unittest

import jupyter_kernel_test
from jupyter_client.manager import start_new_kernel


class MechlabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "mechlab"

    @classmethod
    def setUpClass(cls):
        cls.kernel_log = open(os.environ.get("MECHLAB_KERNEL_LOG", os.devnull), "a", encoding="utf-8")
        cls.km, cls.kc = start_new_kernel(
            kernel_name=cls.kernel_name, startup_timeout=120, stdout=cls.kernel_log, stderr=cls.kernel_log
        )

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.kernel_log.close()

    # kernel_info_reply: language_info
    language_name = "typescript"
    file_extension = ".ts"

    # execute_request → stream
    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("this goes to stderr")'

    # complete_request: the exact set of matches for a member prefix
    completion_samples = [
        {"text": "Math.ma", "matches": {"max"}},
        {"text": "Math.PI.toFix", "matches": {"toFixed"}},
        {"text": '"mechlab".toUpperC', "matches": {"toUpperCase"}},
    ]

    # is_complete_request
    complete_code_samples = ["1 + 1", "const done = 1;", "function f(): number {\n  return 1;\n}"]
    incomplete_code_samples = ["function f() {", "const xs = [1, 2,", "if (true) {"]
    invalid_code_samples = ["const = 1;", "let x = );", "}"]

    # execute_request whose reply carries a pager payload: `expr?` shows the inspection of expr
    # in the pager, as `obj?` does in IPython (`expr?` alone is not valid TypeScript).
    code_page_something = "Math.max?"

    # execute_request → exactly one iopub `error` and an error reply
    code_generate_error = 'throw new Error("expected failure")'

    # execute_request → execute_result (text/plain as Node's util.inspect writes it, and objects'
    # own MIME bundles through Symbol.for("Jupyter.display"))
    code_execute_result = [
        {"code": "1 + 2 + 3", "result": "6"},
        {"code": "[1, 2, 3].map((x) => x * 2)", "result": "[ 2, 4, 6 ]"},
        {"code": '"mech" + "lab"', "result": "'mechlab'"},
        {
            "code": '({ [Symbol.for("Jupyter.display")]() { return { "text/markdown": "**mechlab**", "text/plain": "mechlab" }; } })',
            "mime": "text/markdown",
            "result": "**mechlab**",
        },
    ]

    # history_request: tail, range and search (glob patterns match whole inputs, as in IPython);
    # the pattern matches exactly one distinct input of code_execute_result.
    supported_history_operations = ("tail", "range", "search")
    code_history_pattern = "1 + 2*"

    # execute_request → display_data (mechlab's display(), imported as a notebook does)
    code_display_data = [
        {"code": 'import { display } from "mechlab";\ndisplay.html("<b>mechlab</b>");', "mime": "text/html"},
        {"code": 'import { display } from "mechlab";\ndisplay.markdown("*mechlab*");', "mime": "text/markdown"},
        {"code": 'import { display } from "mechlab";\ndisplay({ "image/svg+xml": "<svg xmlns=\'http://www.w3.org/2000/svg\'/>", "text/plain": "svg" });', "mime": "image/svg+xml"},
    ]

    # inspect_request
    code_inspect_sample = "Math.max"

    # execute_request → clear_output
    code_clear_output = 'import { clearOutput } from "mechlab";\nclearOutput();'


if __name__ == "__main__":
    unittest.main(verbosity=2)
