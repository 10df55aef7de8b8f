"""`make demo` keeps telling its story: it runs here as a newcomer runs it and must end well, and
it must notice when the template's rules no longer route what AWS sends."""

import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from tests.stack.local_aws import ROOT, cargo_build_bins

from demo_timeline import FUNCTIONS  # noqa: E402  (scripts/ is on the path through local_aws)


def demo(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), *arguments], cwd=ROOT, capture_output=True, text=True, timeout=600)


class Demo(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cargo_build_bins()

    def test_every_function_acts_and_every_step_does_what_it_announced(self):
        with tempfile.TemporaryDirectory() as out:
            done = demo("--out", out)
            self.assertEqual(done.returncode, 0, done.stdout[-4000:] + done.stderr[-2000:])
            self.assertTrue((Path(out) / "timeline.png").stat().st_size > 10_000)
            self.assertIn("data:image/png;base64,", (Path(out) / "timeline.html").read_text())
        for function in FUNCTIONS:
            self.assertIn(f"-> {function} (", done.stdout, f"{function} never acted")
        self.assertNotRegex(done.stdout, r"(?m)^   FAIL ", "a check failed")

    def test_a_broken_rule_pattern_makes_it_fail(self):
        with tempfile.TemporaryDirectory() as scratch:
            template = (ROOT / "template.yaml").read_text()
            self.assertEqual(template.count("detail-type: [ECR Image Action]"), 1)
            broken = Path(scratch) / "template.yaml"
            broken.write_text(template.replace("detail-type: [ECR Image Action]", "detail-type: [ECR Image Actions]"))
            done = demo("--template", str(broken), "--out", scratch)
        self.assertNotEqual(done.returncode, 0, done.stdout[-3000:])
        self.assertIn("FAIL the template's rules route it to image-pushed (reached: no function)", done.stdout)
        self.assertIn("The demo did not do what it announced", done.stdout)


if __name__ == "__main__":
    unittest.main()
