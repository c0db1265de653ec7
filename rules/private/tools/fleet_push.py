"""Pushes the images of a fleet to one registry, sending each blob at most once.

In:  the images (OCI layouts py_image made, each with its layout tag and its name:tag), the
     registry and prefix to push under, and skopeo's options for the destination.
Out: first a push plan, per image: the blobs (config and layers) and bytes that will move, those
     the registry already holds in that repository, those it holds in another repository of the
     fleet (mounted, no bytes move) and those an earlier image of this push sends; then the
     pushes, one skopeo copy per image after the mounts, each checked against the built digest.
     The last line is the plan as JSON. `--plan` stops after the plan. Runs on the host (a
     `bazel run` runner), with the standard library only.

A lazy push (`--from-cache URL`, with `--manifest MANIFEST=NAME:TAG` per image instead of a
layout) reads nothing of the images on this machine but their manifests: every blob it sends
comes from the remote cache the build wrote to, where Bazel keeps each output by its sha256 (the
same digest the OCI blob has): `GET URL/cas/<hex>` from an HTTP cache, ByteStream Read from a
gRPC one (REAPI, with python3-grpcio). It checks first that the cache still holds every blob to
send (nothing is pushed if not), streams each one to the registry in chunks while hashing it,
finishes an upload only when the bytes hash to the digest, and puts a manifest, under its tag,
only after all of its blobs are there: an evicted blob fails the push before any tag moves.

Usage: fleet_push.py --registry HOST[:PORT][/PREFIX] --image LAYOUT=REF=NAME:TAG [--image ...]
                     [--plan] [--dest-tls-verify=false] [--dest-creds USER:PASS] [skopeo option ...]
       fleet_push.py --registry ... --from-cache URL --manifest FILE=NAME:TAG [--manifest ...] [...]
"""

import base64
import hashlib
import http.client
import json
import os
import ssl
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

CHUNK = 1 << 20
# What the remote cache and the registry see: bench/fleet.sh tells the push's reads from Bazel's.
USER_AGENT = "rules_pyimage-push"


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


def basic_auth(creds):
    """{"Authorization": ...} for USER:PASS, or {} without credentials."""
    return {"Authorization": "Basic " + base64.b64encode(creds.encode()).decode()} if creds else {}


def read_manifest(path):
    """(manifest digest, its bytes, its media type, [(digest, size)] of the config and layers)."""
    with open(path, "rb") as f:
        data = f.read()
    manifest = json.loads(data)
    blobs = [(manifest["config"]["digest"], manifest["config"]["size"])]
    blobs += [(l["digest"], l["size"]) for l in manifest["layers"]]
    for digest, size in blobs:
        hexpart = digest[len("sha256:"):]
        if not digest.startswith("sha256:") or len(hexpart) != 64 or not all(c in "0123456789abcdef" for c in hexpart) \
                or not isinstance(size, int) or size < 0:
            raise PushError("%s names a blob %r of size %r: not a sha256 digest and a size" % (path, digest, size))
    return "sha256:" + hashlib.sha256(data).hexdigest(), data, manifest["mediaType"], blobs


def _varint(n):
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number, value):
    """One protobuf field: bytes/str as length-delimited, int as varint."""
    if isinstance(value, int):
        return _varint(number << 3) + _varint(value)
    value = value.encode() if isinstance(value, str) else value
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _fields(data):
    """(number, value) of each field of a protobuf message: varints as int, the rest as bytes."""
    i = 0
    while i < len(data):
        key, i = _read_varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _read_varint(data, i)
        elif wire == 2:
            n, i = _read_varint(data, i)
            value, i = data[i:i + n], i + n
        else:
            raise PushError("the cache answered with a protobuf wire type %d this client does not read" % wire)
        yield number, value


def _read_varint(data, i):
    n = shift = 0
    while True:
        byte = data[i]
        n |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not byte & 0x80:
            return n, i


class HttpCache:
    """Bazel's HTTP cache protocol: blobs at URL/cas/<hex>."""

    def __init__(self, url):
        parts = urllib.parse.urlsplit(url)
        self.base = "%s://%s%s" % (parts.scheme, parts.hostname + (":%d" % parts.port if parts.port else ""), parts.path.rstrip("/"))
        self.url = self.base  # what is printed: never the credentials
        self.headers = dict(basic_auth(parts.username and "%s:%s" % (
            urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or ""))), **{"User-Agent": USER_AGENT})

    def _open(self, method, digest):
        request = urllib.request.Request("%s/cas/%s" % (self.base, digest.split(":", 1)[1]), method=method, headers=self.headers)
        return urllib.request.urlopen(request, timeout=60)

    def missing(self, blobs):
        out = []
        for digest, size in blobs:
            try:
                with self._open("HEAD", digest):
                    pass
            except urllib.error.HTTPError as err:
                if err.code != 404:
                    raise PushError("the remote cache %s answered HTTP %d for %s" % (self.base, err.code, digest)) from err
                out.append((digest, size))
            except (urllib.error.URLError, OSError) as err:
                raise PushError("the remote cache %s does not answer (%s)" % (self.base, err)) from err
        return out

    def read(self, digest, size):
        try:
            with self._open("GET", digest) as response:
                while True:
                    chunk = response.read(CHUNK)
                    if not chunk:
                        return
                    yield chunk
        except urllib.error.HTTPError as err:
            raise PushError("the remote cache %s answered HTTP %d for %s" % (self.base, err.code, digest)) from err
        except (urllib.error.URLError, OSError) as err:
            raise PushError("the remote cache %s broke off reading %s (%s)" % (self.base, digest, err)) from err


def grpc_or_reexec(argv):
    """grpcio, for a gRPC cache. Debian's python3-grpcio is /usr/bin/python3's, which another
    python3 first on PATH (pyenv, a virtualenv) does not see: then the push runs again on
    /usr/bin/python3 (before it has printed or sent anything), once."""
    try:
        import grpc  # noqa: PLC0415 (only a gRPC cache needs it)
        return grpc
    except ImportError:
        system = "/usr/bin/python3"
        if os.path.exists(system) and not os.environ.get("PYIMAGE_PUSH_REEXEC") \
                and os.path.realpath(sys.executable) != os.path.realpath(system):
            os.environ["PYIMAGE_PUSH_REEXEC"] = "1"
            os.execv(system, [system, os.path.abspath(__file__)] + argv)
        raise


class GrpcCache:
    """REAPI's ContentAddressableStorage and ByteStream, over grpc without generated code."""

    def __init__(self, url, argv=()):
        try:
            grpc = grpc_or_reexec(list(argv))
        except ImportError as err:
            raise PushError("a lazy push from the gRPC cache %s needs grpcio in the host's python3 "
                            "(apt-get install python3-grpcio)" % url) from err
        parts = urllib.parse.urlsplit(url)
        self.url = "%s://%s%s" % (parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path)
        self.instance = parts.path.strip("/")
        target = parts.netloc.rsplit("@", 1)[-1]
        if parts.scheme == "grpcs":
            self.channel = grpc.secure_channel(target, grpc.ssl_channel_credentials())
        else:
            self.channel = grpc.insecure_channel(target)
        raw = {"request_serializer": bytes, "response_deserializer": bytes}
        self._find = self.channel.unary_unary("/build.bazel.remote.execution.v2.ContentAddressableStorage/FindMissingBlobs", **raw)
        self._read = self.channel.unary_stream("/google.bytestream.ByteStream/Read", **raw)
        self._error = grpc.RpcError

    def missing(self, blobs):
        request = _field(1, self.instance) if self.instance else b""
        for digest, size in blobs:
            request += _field(2, _field(1, digest.split(":", 1)[1]) + _field(2, size))
        try:
            answer = self._find(request, timeout=60)
        except self._error as err:
            raise PushError("the remote cache %s does not answer FindMissingBlobs (%s)" % (self.url, err.code())) from err
        gone = set()
        for number, value in _fields(answer):
            if number == 2:
                gone.add("sha256:" + dict(_fields(value)).get(1, b"").decode())
        return [(d, s) for d, s in blobs if d in gone]

    def read(self, digest, size):
        name = "blobs/%s/%d" % (digest.split(":", 1)[1], size)
        if self.instance:
            name = self.instance + "/" + name
        try:
            for answer in self._read(_field(1, name), timeout=3600):
                for number, value in _fields(answer):
                    if number == 10:
                        yield value
        except self._error as err:
            raise PushError("the remote cache %s could not read %s (%s)" % (self.url, digest, err.code())) from err


def open_cache(url, argv=()):
    scheme = url.split("://", 1)[0]
    if scheme in ("http", "https"):
        return HttpCache(url)
    if scheme in ("grpc", "grpcs"):
        return GrpcCache(url, argv)
    raise PushError("--from-cache %s: give the remote cache as http(s)://HOST[:PORT][/PATH] or grpc(s)://HOST:PORT[/INSTANCE], as Bazel's --remote_cache" % url)


class Registry:
    """The registry API calls the push needs: does a repository hold a blob, mount one, and (for
    a lazy push) upload a blob from a stream and put a manifest."""

    def __init__(self, host, tls_verify, creds):
        self.base = ("https://" if tls_verify else "http://") + host
        self.headers = dict(basic_auth(creds), **{"User-Agent": USER_AGENT})

    def _connection(self, url):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "https":
            return http.client.HTTPSConnection(parts.netloc, timeout=600, context=ssl.create_default_context())
        return http.client.HTTPConnection(parts.netloc, timeout=600)

    def _send(self, method, url, headers, body_chunks=(), length=0):
        """One request with a streamed body; (status, headers, body)."""
        url = urllib.parse.urljoin(self.base + "/", url)
        parts = urllib.parse.urlsplit(url)
        conn = self._connection(url)
        try:
            conn.putrequest(method, parts.path + ("?" + parts.query if parts.query else ""))
            for k, v in dict(self.headers, **headers).items():
                conn.putheader(k, v)
            conn.putheader("Content-Length", str(length))
            conn.endheaders()
            for chunk in body_chunks:
                conn.send(chunk)
            response = conn.getresponse()
            return response.status, response.headers, response.read()
        except (OSError, http.client.HTTPException) as err:
            raise PushError("the registry %s broke off a %s (%s)" % (self.base, method, err)) from err
        finally:
            conn.close()

    def upload(self, repo, digest, size, chunks):
        """Sends one blob from chunks; finishes the upload only if they hash to digest."""
        status, headers, body = self._send("POST", "/v2/%s/blobs/uploads/" % repo, {})
        if status != 202:
            raise PushError("the registry %s refused an upload to %s (HTTP %d: %s)" % (self.base, repo, status, body[:200]))
        sha, seen = hashlib.sha256(), [0]

        def hashed():
            for chunk in chunks:
                sha.update(chunk)
                seen[0] += len(chunk)
                if seen[0] > size:
                    raise PushError("the remote cache sent more than %d bytes for %s" % (size, digest))
                yield chunk
        location = headers["Location"]
        status, headers, body = self._send("PATCH", location, {"Content-Type": "application/octet-stream"}, hashed(), size)
        if status != 202:
            raise PushError("the registry %s refused the bytes of %s (HTTP %d: %s)" % (self.base, digest, status, body[:200]))
        got = "sha256:" + sha.hexdigest()
        if seen[0] != size or got != digest:
            raise PushError("the remote cache sent %d bytes hashing to %s for %s of %d bytes; the upload was not finished"
                            % (seen[0], got, digest, size))
        location = headers["Location"]
        location += ("&" if "?" in location else "?") + urllib.parse.urlencode({"digest": digest})
        status, _, body = self._send("PUT", location, {})
        if status != 201:
            raise PushError("the registry %s did not take %s (HTTP %d: %s)" % (self.base, digest, status, body[:200]))

    def put_manifest(self, repo, tag, data, media_type):
        status, headers, body = self._send("PUT", "/v2/%s/manifests/%s" % (repo, tag), {"Content-Type": media_type}, [data], len(data))
        if status != 201:
            raise PushError("the registry %s did not take the manifest of %s:%s (HTTP %d: %s)" % (self.base, repo, tag, status, body[:200]))
        return headers.get("Docker-Content-Digest", "")

    def call(self, method, path, headers=None):
        """(status, response headers) of a request without a body; HTTP errors are statuses."""
        request = urllib.request.Request(self.base + path, method=method, headers=dict(self.headers, **(headers or {})))
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers
        except urllib.error.HTTPError as err:
            return err.code, err.headers
        except (urllib.error.URLError, OSError) as err:
            raise PushError("the registry %s does not answer (%s)" % (self.base, err)) from err

    def ask(self, path, what, headers=None):
        """A HEAD that must not be refused: (status, headers), or a PushError naming `what`."""
        status, answer = self.call("HEAD", path, headers)
        if status in (401, 403):
            raise PushError("the registry %s refused to say %s (HTTP %d): give --dest-creds USER:PASS" % (self.base, what, status))
        return status, answer

    def tag_digest(self, repo, tag):
        """The digest of the manifest the tag names now, or "" (no such tag)."""
        status, answer = self.ask("/v2/%s/manifests/%s" % (repo, tag), "what %s:%s is" % (repo, tag), {
            "Accept": "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json"})
        return answer.get("Docker-Content-Digest", "") if status == 200 else ""

    def has(self, repo, digest):
        return self.ask("/v2/%s/blobs/%s" % (repo, digest), "whether %s holds %s" % (repo, digest))[0] == 200

    def mount(self, repo, digest, source):
        return self.call("POST", "/v2/%s/blobs/uploads/?mount=%s&from=%s" % (repo, digest, source))[0] == 201


def plan(images, registry):
    """Per image, what each blob needs: 'there', 'mount FROM', 'sent by IMAGE' or 'send'.

    An image whose tag already names its digest is marked current (image["current"]): its
    repository holds every blob, nothing of it is asked for or pushed again."""
    holders = {}  # digest -> a repository of the fleet that holds it
    sending = {}  # digest -> the image of this push that sends it
    rows = []
    for image in images:
        image["current"] = registry.tag_digest(image["repo"], image["tag"]) == image["digest"]
        actions = []
        for digest, size in image["blobs"]:
            if image["current"] or registry.has(image["repo"], digest):
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
        out.append({"image": image["name"], "current": image["current"], "blobs": len(actions), "send_blobs": len(send), "send_bytes": sum(send),
                    "present_blobs": len(actions) - len(send), "present_bytes": sum(s for _, s, a in actions if a != "send")})
    return out


def lazy_push(images, rows, api, cache, registry, rows_summary, total):
    """Each image's blobs from the cache (or mounted), then its manifest under its tag."""
    repo_of = {image["name"]: image["repo"] for image in images}
    streamed = 0
    for image, actions in zip(images, rows):
        if image["current"]:
            print("up to date: %s@%s" % (image["dest"], image["digest"]))
            continue
        try:
            for digest, size, action in actions:
                if action == "there":
                    continue
                source = action.split(" ", 1)[1] if action.startswith("mount ") else \
                    repo_of[action[len("sent by "):]] if action.startswith("sent by ") else None
                if source and api.mount(image["repo"], digest, source):
                    continue
                api.upload(image["repo"], digest, size, cache.read(digest, size))
                streamed += size
            got = api.put_manifest(image["repo"], image["tag"], image["manifest"], image["media"])
        except PushError as err:
            sys.exit("ERROR: %s; %s was not tagged (the images before it are pushed)" % (err, image["dest"]))
        if got and got != image["digest"]:
            sys.exit("ERROR: %s was pushed as %s, not the built %s" % (image["dest"], got, image["digest"]))
        print("pushed %s@%s" % (image["dest"], image["digest"]))
    print("streamed %d bytes from the remote cache %s to the registry; none of them through this machine's disk" % (streamed, cache.url))
    print(json.dumps({"registry": registry, "images": rows_summary, "total": total, "from_cache": cache.url,
                      "streamed_bytes": streamed}, sort_keys=True))
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    registry, specs, extra, plan_only, tls_verify, creds = "", [], [], False, True, ""
    from_cache, lazy_specs = "", []
    lists = {"--image": specs, "--manifest": lazy_specs}
    i = 0
    while i < len(argv):
        a = argv[i]
        value = argv[i + 1] if i + 1 < len(argv) else ""
        name, eq, inline = a.partition("=")
        if name in ("--registry", "--from-cache", "--image", "--manifest"):
            # --name VALUE or --name=VALUE
            value, i = (inline, i + 1) if eq else (value, i + 2)
            if name in lists:
                lists[name].append(value)
            elif name == "--registry":
                registry = value
            else:
                from_cache = value
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
    if bool(from_cache) != bool(lazy_specs) or (lazy_specs and specs):
        sys.exit("ERROR: a lazy push takes --from-cache URL and a --manifest FILE=NAME:TAG per image (and no --image)")
    if from_cache:
        # No skopeo runs: an option meant for it would be dropped without a word.
        other = [a for a in extra if not a.startswith("--dest-tls-verify") and a != "--dest-creds" and a != creds
                 and not a.startswith("--dest-creds=")]
        if other:
            sys.exit("ERROR: a lazy push (--from-cache) takes --dest-tls-verify=false and --dest-creds USER:PASS, not %s; "
                     "push without //rules:push_from_cache for skopeo's other options" % " ".join(other))
    host, _, prefix = registry.partition("/")
    images = []
    try:
        cache = open_cache(from_cache, argv) if from_cache else None
        for spec in specs + lazy_specs:
            if cache:
                path, name = spec.split("=", 1)
                digest, data, media, blobs = read_manifest(path)
                image = {"manifest": data, "media": media}
            else:
                layout, ref, name = spec.split("=", 2)
                digest, blobs = read_layout(layout, ref)
                image = {"layout": layout, "ref": ref}
            repo_name, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "latest")
            repo = "/".join(p for p in [prefix, repo_name] if p)
            image.update({"name": name, "digest": digest, "blobs": blobs, "repo": repo, "tag": tag,
                          "dest": "%s/%s:%s" % (host, repo, tag)})
            images.append(image)
        api = Registry(host, tls_verify, creds)
        rows = plan(images, api)
        if cache:
            # Every blob to send must still be in the cache, or nothing is pushed.
            to_send = sorted({(d, size) for actions in rows for d, size, a in actions if a == "send"})
            gone = cache.missing(to_send)
            if gone:
                raise PushError(
                    "the remote cache %s no longer holds %d of the blobs to send (%s); it evicted them after the build. "
                    "Build again with --noremote_accept_cached (the layers are made and uploaded anew) and push again, "
                    "or push from a build that downloads its outputs (--remote_download_toplevel, and no "
                    "--@rules_pyimage//rules:push_from_cache)" % (cache.url, len(gone), ", ".join(d for d, _ in gone)))
    except PushError as err:
        sys.exit("ERROR: %s; nothing was pushed" % err)
    print("push plan for %s (%d images):" % (registry, len(images)))
    print("  %-40s %6s %14s %8s %14s" % ("image", "send", "bytes to send", "present", "bytes present"))
    rows_summary = summary(images, rows)
    for s in rows_summary:
        print("  %-40s %6d %14d %8d %14d%s" % (s["image"], s["send_blobs"], s["send_bytes"], s["present_blobs"], s["present_bytes"],
                                             "  (up to date: its tag names this digest)" if s["current"] else ""))
    total = {k: sum(s[k] for s in rows_summary) for k in ("blobs", "send_blobs", "send_bytes", "present_blobs", "present_bytes")}
    print("  %-40s %6d %14d %8d %14d" % ("total", total["send_blobs"], total["send_bytes"], total["present_blobs"], total["present_bytes"]))
    if plan_only:
        print(json.dumps({"registry": registry, "images": rows_summary, "total": total}, sort_keys=True))
        return 0
    if cache:
        return lazy_push(images, rows, api, cache, registry, rows_summary, total)
    for image, actions in zip(images, rows):
        if image["current"]:
            print("up to date: %s@%s" % (image["dest"], image["digest"]))
            continue
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
