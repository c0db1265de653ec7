"""Reads Bazel's --execution_log_json_file: a stream of JSON objects, one per spawn Bazel did not
answer from its local action cache (run here, or answered by the disk/remote cache).

  execlog.py status LOG MNEMONIC   prints ran, cached or absent for that mnemonic's spawns
  execlog.py spawns LOG            prints one line per spawn: MNEMONIC OUTPUT ran|cached
  execlog.py local LOG             prints the mnemonics of spawns run here (not cache hits)
"""

import json
import os
import sys


def load(path):
    text = open(path).read()
    decoder = json.JSONDecoder()
    spawns, i = [], 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i >= len(text):
            return spawns
        spawn, i = decoder.raw_decode(text, i)
        spawns.append(spawn)


def describe(spawn):
    """MNEMONIC OUTPUT: the spawn's mnemonic and the base name of its first declared output."""
    outputs = spawn.get("listedOutputs") or ["-"]
    return "%s %s" % (spawn.get("mnemonic", "?"), os.path.basename(outputs[0]))


def main(argv):
    cmd, spawns = argv[1], load(argv[2])
    if cmd == "status":
        mine = [s for s in spawns if s.get("mnemonic") == argv[3]]
        print("absent" if not mine else "cached" if all(s.get("remoteCacheHit") for s in mine) else "ran")
    elif cmd == "spawns":
        for s in sorted(spawns, key=describe):
            print("%s %s" % (describe(s), "cached" if s.get("remoteCacheHit") else "ran"))
    elif cmd == "local":
        print(" ".join(sorted(set(s.get("mnemonic", "?") for s in spawns if not s.get("remoteCacheHit")))))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
