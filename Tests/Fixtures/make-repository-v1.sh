#!/usr/bin/env bash
# Regenerates Tests/Fixtures/repository-v1 and its expected listing. Run only when the
# format version changes: the committed fixture is what older builds wrote, and every
# build must keep reading it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lifeboat=${1:-$here/../../.build/debug/lifeboat}
src=/tmp/fx/src
rm -rf /tmp/fx "$here/repository-v1"
mkdir -p "$src/fixture/docs" "$src/fixture/empty"
cd "$src/fixture"
printf 'hello lifeboat\n' > docs/hello.txt
python3 -c "
import random; r=random.Random(3); open('blob.bin','wb').write(bytes(r.getrandbits(8) for _ in range(700000)))
open('docs/text.md','w').write('# Fixture\n'+'line of text\n'*3000)"
ln -s docs/hello.txt link
: > emptyfile
chmod 640 docs/text.md
touch -d '2024-02-03 04:05:06.123456789' blob.bin docs/hello.txt docs/text.md emptyfile empty docs
printf 'lifeboat fixture passphrase' > /tmp/fx/pw
export LIFEBOAT_REPOSITORY=$here/repository-v1 LIFEBOAT_PASSWORD_FILE=/tmp/fx/pw
"$lifeboat" init --kdf-n 1024 >/dev/null
(cd "$src" && "$lifeboat" backup fixture --tag fixture >/dev/null)
rmdir "$here/repository-v1/locks" 2>/dev/null || true
cd "$src"
python3 - "$here/repository-v1.expected.json" <<'PY'
import os, hashlib, json, sys
out = {}
for d, dirs, files in os.walk('fixture'):
    for n in sorted(dirs + files):
        p = os.path.join(d, n); st = os.lstat(p)
        e = {"mode": oct(st.st_mode & 0o7777)[2:], "mtimeNs": st.st_mtime_ns}
        if os.path.islink(p): e = {"symlink": os.readlink(p)}
        elif os.path.isdir(p): e["type"] = "directory"
        else: e.update(type="file", sha256=hashlib.sha256(open(p, 'rb').read()).hexdigest(), size=st.st_size)
        out["/tmp/fx/src/" + p] = e
json.dump({"passphrase": "lifeboat fixture passphrase", "snapshots": 1, "entries": out}, open(sys.argv[1], 'w'), indent=1, sort_keys=True)
PY
rm -rf /tmp/fx
