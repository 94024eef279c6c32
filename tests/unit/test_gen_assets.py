#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""userspace/collector/web/gen_assets.py, the dashboard's embedding step: on
files made here, the C table it writes is compiled with a small program
that looks every path up and prints what the collector would serve (path,
Content-Type, ETag, Cache-Control, length, bytes), and that is compared
with what the files hold; the page's placeholders become the hashed URLs;
a placeholder naming no file and an unknown extension are errors.

usage: test_gen_assets.py SOURCE_ROOT
"""
import hashlib
import os
import subprocess
import sys
import tempfile
import unittest

TOP = sys.argv.pop(1) if len(sys.argv) > 1 else "."
GEN = os.path.join(TOP, "userspace", "collector", "web", "gen_assets.py")

DUMP = r"""
#include <stdio.h>
#include "collector/api/assets.h"
int main(void)
{
	for (unsigned int i = 0; i < xtel_n_assets; i++) {
		const struct xtel_asset *a = xtel_asset_find(xtel_assets[i].path);
		printf("%s\t%s\t%s\t%s\t%zu\t", a->path, a->content_type, a->etag,
		       a->cache_control, a->len);
		fwrite(a->data, 1, a->len, stdout);
		printf("\x1e");	/* a record separator: bodies hold newlines */
	}
	return xtel_asset_find("/static/nope.js") != NULL;
}
"""


class GenAssets(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="xtel-gen-assets.")

    def write(self, name, text):
        p = os.path.join(self.d, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def gen(self, *files):
        out = os.path.join(self.d, "assets.c")
        r = subprocess.run([sys.executable, GEN, out, *files], capture_output=True, text=True)
        return r, out

    def test_table_compiles_and_serves_the_files(self):
        js, css = "console.log(1);\n", "body{color:red}\n"
        page = self.write("index.html", '<script src="{{asset:app.js}}"></script>'
                          '<link href="{{asset:app.css}}">\n')
        r, out = self.gen(page, self.write("app.js", js), self.write("app.css", css))
        self.assertEqual(r.returncode, 0, r.stderr)
        exe = os.path.join(self.d, "dump")
        src = self.write("dump.c", DUMP)
        cc = subprocess.run(["cc", "-Wall", "-Werror", "-I", os.path.join(TOP, "userspace"),
                             "-o", exe, src, out], capture_output=True, text=True)
        self.assertEqual(cc.returncode, 0, cc.stderr)
        run = subprocess.run([exe], capture_output=True)
        self.assertEqual(run.returncode, 0, "an unknown path was found")
        rows = {}
        for line in run.stdout.decode().split("\x1e"):
            if line:
                path, ctype, etag, cache, n, body = line.split("\t", 5)
                rows[path] = (ctype, etag, cache, int(n), body)
        h = {name: hashlib.sha256(text.encode()).hexdigest() for name, text in
             (("js", js), ("css", css))}
        js_url, css_url = "/static/app.%s.js" % h["js"][:10], "/static/app.%s.css" % h["css"][:10]
        self.assertEqual(sorted(rows), sorted(["/", js_url, css_url]))
        self.assertEqual(rows[js_url], ("text/javascript; charset=utf-8", '"%s"' % h["js"][:32],
                                        "public, max-age=31536000, immutable", len(js), js))
        self.assertEqual(rows[css_url][0], "text/css; charset=utf-8")
        want_page = '<script src="%s"></script><link href="%s">\n' % (js_url, css_url)
        self.assertEqual(rows["/"], ("text/html; charset=utf-8",
                                     '"%s"' % hashlib.sha256(want_page.encode()).hexdigest()[:32],
                                     "no-cache", len(want_page), want_page))

    def test_a_placeholder_naming_no_file_is_an_error(self):
        r, out = self.gen(self.write("index.html", "{{asset:gone.js}}"), self.write("app.js", ""))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("{{asset:gone.js}}", r.stderr)
        self.assertFalse(os.path.exists(out))

    def test_an_unknown_extension_is_an_error(self):
        r, _ = self.gen(self.write("index.html", ""), self.write("data.bin", "x"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no Content-Type known for '.bin'", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
