"""Reads `bazel aquery --output=jsonproto`: the action graph, without building anything.

  action_keys.py keys AQUERY            prints one line per action: MNEMONIC OUTPUT KEY PATH
  action_keys.py dependents AQUERY TEXT prints MNEMONIC OUTPUT for every action that takes, directly
                                        or through other actions' outputs, a file whose exec path
                                        contains TEXT

OUTPUT is the base name of the action's first output, as in execlog.py, PATH its exec path; KEY is Bazel's action key
(what its action cache is keyed on: the command line, the environment, the tools, not the inputs'
contents, which Bazel adds when it looks an action up).
"""

import json
import os
import sys


class Graph:
    def __init__(self, path):
        data = json.load(open(path))
        fragments = {f["id"]: f for f in data.get("pathFragments", [])}

        def exec_path(artifact):
            if "execPath" in artifact:  # Bazel 4
                return artifact["execPath"]
            parts, fid = [], artifact["pathFragmentId"]  # Bazel 5 and later
            while fid:
                parts.append(fragments[fid]["label"])
                fid = fragments[fid].get("parentId")
            return "/".join(reversed(parts))

        self.paths = {a["id"]: exec_path(a) for a in data.get("artifacts", [])}
        self.depsets = {d["id"]: d for d in data.get("depSetOfFiles", [])}
        self.actions = data.get("actions", [])
        self.producer = {o: a for a in self.actions for o in a.get("outputIds", [])}

    def first_output(self, action):
        outputs = action.get("outputIds") or []
        return self.paths[outputs[0]] if outputs else "-"

    def describe(self, action):
        return "%s %s" % (action.get("mnemonic", "?"), os.path.basename(self.first_output(action)))

    def inputs(self, action):
        seen, stack, files = set(), list(action.get("inputDepSetIds", [])), set()
        while stack:
            d = stack.pop()
            if d in seen:
                continue
            seen.add(d)
            files.update(self.depsets[d].get("directArtifactIds", []))
            stack.extend(self.depsets[d].get("transitiveDepSetIds", []))
        return files

    def depends_on(self, action, text, memo):
        key = id(action)
        if key not in memo:
            memo[key] = False  # a cycle cannot happen in an action graph; this only ends recursion
            found = False
            for f in self.inputs(action):
                if text in self.paths[f]:
                    found = True
                    break
                producer = self.producer.get(f)
                if producer is not None and self.depends_on(producer, text, memo):
                    found = True
                    break
            memo[key] = found
        return memo[key]


def main(argv):
    if len(argv) < 3 or argv[1] not in ("keys", "dependents"):
        sys.exit(__doc__)
    graph = Graph(argv[2])
    if argv[1] == "keys":
        lines = ["%s %s %s" % (graph.describe(a), a.get("actionKey", "?"), graph.first_output(a)) for a in graph.actions]
    else:
        memo = {}
        lines = [graph.describe(a) for a in graph.actions if graph.depends_on(a, argv[3], memo)]
    for line in sorted(lines):
        print(line)


if __name__ == "__main__":
    main(sys.argv)
