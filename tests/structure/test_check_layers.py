#!/usr/bin/env python3
"""scripts/check-layers on small made-up trees: it must see an include that
runs up, an #if on the architecture outside arch/, a module or a host tool that
reaches into the core, a file in no layer, and a stale allow entry; and it must pass
a tree that has none of them."""

import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECKER = os.path.join(ROOT, "scripts", "check-layers")

LAYERS = """
[[layers]]
name = "base"
doc = "bottom"
paths = ["core/lib/base/**", "arch/*/include/**"]

[[layers]]
name = "mm"
doc = "middle"
paths = ["core/mm/**"]

[[layers]]
name = "console"
doc = "top"
paths = ["core/console/**", "**/*_command.cpp"]

[[outside]]
name = "host tools"
paths = ["scripts/tools/**"]
may_include = ["base"]
"""

GOOD = {
    "core/lib/base/result.h": "#pragma once\n",
    "core/mm/heap.h": '#pragma once\n#include "lib/base/result.h"\n',
    "core/mm/mem_command.cpp": '#include "console/console.h"\n#include "mm/heap.h"\n',
    "core/console/console.h": '#pragma once\n#include "mm/heap.h"\n',
    "arch/x86_64/include/arch/cpu.h": "#if defined(__x86_64__)\n#endif\n",
    "modules/hello/hello.c": '#include "keel/keel.h"\n#include "hello.h"\n',
    "modules/hello/hello.h": "#pragma once\n",
    "scripts/tools/tool.cpp": '#include "lib/base/result.h"\n',
}


def run(files, layers=LAYERS):
    with tempfile.TemporaryDirectory() as tree:
        os.makedirs(os.path.join(tree, "scripts"))
        shutil.copy(CHECKER, os.path.join(tree, "scripts", "check-layers"))
        with open(os.path.join(tree, "scripts", "layers.toml"), "w") as handle:
            handle.write(layers)
        for path, text in files.items():
            os.makedirs(os.path.join(tree, os.path.dirname(path)), exist_ok=True)
            with open(os.path.join(tree, path), "w") as handle:
                handle.write(text)
        subprocess.run(["git", "init", "-q", tree], check=True)
        result = subprocess.run([sys.executable, CHECKER, "--root", tree], capture_output=True, text=True)
        return result.returncode, result.stdout


def expect(name, files, fragment, layers=LAYERS):
    status, out = run(files, layers)
    if status == 0 or fragment not in out:
        print(f"FAIL {name}: status {status}, expected '{fragment}' in:\n{out}")
        return False
    print(f"ok {name}")
    return True


def main():
    ok = True
    status, out = run(GOOD)
    if status != 0:
        print(f"FAIL the good tree is refused:\n{out}")
        ok = False
    else:
        print("ok good tree")
    ok &= expect("upward include", dict(GOOD, **{"core/mm/heap.cpp": '#include "console/console.h"\n'}),
                 'core/mm/heap.cpp:1: layer mm includes "console/console.h" of the higher layer console')
    ok &= expect("arch #if", dict(GOOD, **{"core/mm/heap.cpp": "#ifdef __aarch64__\n#endif\n"}),
                 "core/mm/heap.cpp:1: #if on the architecture outside arch/")
    ok &= expect("module into the core", dict(GOOD, **{"modules/hello/bad.c": '#include "mm/heap.h"\n'}),
                 'modules/hello/bad.c:1: a module includes "mm/heap.h"')
    ok &= expect("host tool into the kernel", dict(GOOD, **{"scripts/tools/bad.cpp": '#include "mm/heap.h"\n'}),
                 'scripts/tools/bad.cpp:1: the host tools include "mm/heap.h" of layer mm')
    ok &= expect("no layer", dict(GOOD, **{"core/vfs/walk.cpp": "\n"}), "core/vfs/walk.cpp: in no layer")
    ok &= expect("unresolvable", dict(GOOD, **{"core/mm/heap.cpp": '#include "nowhere.h"\n'}),
                 'cannot resolve "nowhere.h"')
    stale = LAYERS + '[[allow]]\nfrom = "core/mm/heap.h"\nto = "core/console/console.h"\nwhy = "test"\n'
    ok &= expect("stale allow", GOOD, "is no longer needed", stale)
    allowed = dict(GOOD, **{"core/mm/heap.cpp": '#include "console/console.h"\n'})
    allow = LAYERS + '[[allow]]\nfrom = "core/mm/heap.cpp"\nto = "core/console/console.h"\nwhy = "test"\n'
    status, out = run(allowed, allow)
    if status != 0:
        print(f"FAIL an allowed include is refused:\n{out}")
        ok = False
    else:
        print("ok allow list")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
