"""Pushes the images of a fleet to one registry, sending each blob at most once.

In:  the images (OCI layouts py_image made, each with its layout tag and its name:tag), the
     registry and prefix to push under, and skopeo's options for the destination.
Out: first a push plan, per image: the blobs (config and layers) and bytes that will move, those
     the registry already holds in that repository, those it holds in another repository of the
     fleet (mounted, no bytes move) and those an earlier image of this push sends; then the
     pushes, one skopeo copy per image after the mounts, each checked against the built digest.
     The last line is the plan as JSON. `--plan` stops after the plan. Runs on the host (a
     `bazel run` runner), with the standard library only.

Usage: fleet_push.py --registry HOST[:PORT][/PREFIX] --image LAYOUT=REF=NAME:TAG [--image ...]
                     [--plan] [--dest-tls-verify=false] [--dest-creds USER:PASS] [skopeo option ...]
"""

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request


class PushError(Exception):
    pass


def read_layout(layout, ref):
    """(manifest digest, [(digest, size)] of the config and layers) of the image tagged ref."""
    with open(os.path.join(layout, "index.json")) as f:
        index = json.load(f)
    found = [m for m in index.get("manifests", []) if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref]
    if len(found) != 1:
        raise PushError("%s has no image tagged %s" % (layout, ref))
    digest = found[0]["digest"]
    with open(os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])) as f:
        manifest = json.load(f)
    blobs = [(manifest["config"]["digest"], manifest["config"]["size"])]
    blobs += [(l["digest"], l["size"]) for l in manifest["layers"]]
    return digest, blobs


class Registry:
    """The registry API calls the plan needs: does a repository hold a blob, and mount one."""

    def __init__(self, host, tls_verify, creds):
        self.base = ("https://" if tls_verify else "http://") + host
        self.headers = {}
        if creds:
            self.headers["Authorization"] = "Basic " + base64.b64encode(creds.encode()).decode()

    def call(self, method, path):
        request = urllib.request.Request(self.base + path, method=method, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as err:
            return err.code
        except (urllib.error.URLError, OSError) as err:
            raise PushError("the registry %s does not answer (%s)" % (self.base, err)) from err

    def has(self, repo, digest):
        status = self.call("HEAD", "/v2/%s/blobs/%s" % (repo, digest))
        if status in (401, 403):
            raise PushError("the registry %s refused to say whether %s holds %s (HTTP %d): give --dest-creds USER:PASS"
                            % (self.base, repo, digest, status))
        return status == 200

    def mount(self, repo, digest, source):
        return self.call("POST", "/v2/%s/blobs/uploads/?mount=%s&from=%s" % (repo, digest, source)) == 201


def plan(images, registry):
    """Per image, what each blob needs: 'there', 'mount FROM', 'sent by IMAGE' or 'send'."""
    holders = {}  # digest -> a repository of the fleet that holds it
    sending = {}  # digest -> the image of this push that sends it
    rows = []
    for image in images:
        actions = []
        for digest, size in image["blobs"]:
            if registry.has(image["repo"], digest):
                action = "there"
            elif digest in sending:
                action = "sent by " + sending[digest]
            else:
                source = holders.get(digest) or next(
                    (i["repo"] for i in images if i is not image and registry.has(i["repo"], digest)), None)
                if source:
                    action = "mount " + source
                else:
                    action = "send"
                    sending[digest] = image["name"]
            holders.setdefault(digest, image["repo"])
            actions.append((digest, size, action))
        rows.append(actions)
    return rows


def summary(images, rows):
    out = []
    for image, actions in zip(images, rows):
        send = [s for _, s, a in actions if a == "send"]
        out.append({"image": image["name"], "blobs": len(actions), "send_blobs": len(send), "send_bytes": sum(send),
                    "present_blobs": len(actions) - len(send), "present_bytes": sum(s for _, s, a in actions if a != "send")})
    return out


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    registry, specs, extra, plan_only, tls_verify, creds = "", [], [], False, True, ""
    i = 0
    while i < len(argv):
        a = argv[i]
        value = argv[i + 1] if i + 1 < len(argv) else ""
        if a == "--registry":
            registry, i = value, i + 2
        elif a.startswith("--registry="):
            registry, i = a.split("=", 1)[1], i + 1
        elif a == "--image":
            specs.append(value)
            i += 2
        elif a == "--plan":
            plan_only, i = True, i + 1
        else:
            if a.startswith("--dest-tls-verify="):
                tls_verify = a.split("=", 1)[1] != "false"
            elif a == "--dest-creds":
                creds = value
                extra.append(a)
                a = value
                i += 1
            elif a.startswith("--dest-creds="):
                creds = a.split("=", 1)[1]
            extra.append(a)
            i += 1
    if not registry or registry.startswith("-"):
        sys.exit("ERROR: the fleet push needs --registry HOST[:PORT][/PREFIX] (for example: -- --registry 127.0.0.1:5000/team)")
    host, _, prefix = registry.partition("/")
    images = []
    try:
        for spec in specs:
            layout, ref, name = spec.split("=", 2)
            digest, blobs = read_layout(layout, ref)
            repo_name, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "latest")
            repo = "/".join(p for p in [prefix, repo_name] if p)
            images.append({"name": name, "layout": layout, "ref": ref, "digest": digest, "blobs": blobs,
                           "repo": repo, "dest": "%s/%s:%s" % (host, repo, tag)})
        api = Registry(host, tls_verify, creds)
        rows = plan(images, api)
    except PushError as err:
        sys.exit("ERROR: %s; nothing was pushed" % err)
    print("push plan for %s (%d images):" % (registry, len(images)))
    print("  %-40s %6s %14s %8s %14s" % ("image", "send", "bytes to send", "present", "bytes present"))
    rows_summary = summary(images, rows)
    for s in rows_summary:
        print("  %-40s %6d %14d %8d %14d" % (s["image"], s["send_blobs"], s["send_bytes"], s["present_blobs"], s["present_bytes"]))
    total = {k: sum(s[k] for s in rows_summary) for k in ("blobs", "send_blobs", "send_bytes", "present_blobs", "present_bytes")}
    print("  %-40s %6d %14d %8d %14d" % ("total", total["send_blobs"], total["send_bytes"], total["present_blobs"], total["present_bytes"]))
    if plan_only:
        print(json.dumps({"registry": registry, "images": rows_summary, "total": total}, sort_keys=True))
        return 0
    for image, actions in zip(images, rows):
        for digest, _, action in actions:
            if action.startswith("mount ") and not api.mount(image["repo"], digest, action.split(" ", 1)[1]):
                print("note: the registry did not mount %s into %s; skopeo sends it" % (digest, image["repo"]))
        digest_file = os.path.join(os.environ.get("TMPDIR", "/tmp"), "fleet-push-%d.digest" % os.getpid())
        command = ["skopeo", "copy", "--preserve-digests", "--digestfile", digest_file] + extra + [
            "oci:%s:%s" % (image["layout"], image["ref"]), "docker://" + image["dest"]]
        if subprocess.run(command, stdout=sys.stderr).returncode != 0:
            sys.exit("ERROR: the registry did not take %s (see skopeo's message above); the images before it are pushed" % image["dest"])
        with open(digest_file) as f:
            got = f.read().strip()
        os.unlink(digest_file)
        if got != image["digest"]:
            sys.exit("ERROR: %s was pushed as %s, not the built %s" % (image["dest"], got, image["digest"]))
        print("pushed %s@%s" % (image["dest"], got))
    print(json.dumps({"registry": registry, "images": rows_summary, "total": total}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
