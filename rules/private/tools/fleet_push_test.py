"""fleet_push.plan: each blob is sent once across the fleet; a blob another repository of the
registry holds is mounted, one the image's repository holds is left; the summary adds up."""

import hashlib
import http.server
import json
import os
import tempfile
import threading
import unittest

from rules.private.tools import fleet_push


class FakeRegistry:
    def __init__(self, holds, tags=None):
        self.holds = holds  # {repo: {digest}}
        self.tags = tags or {}  # {repo:tag: manifest digest}
        self.asked = []

    def tag_digest(self, repo, tag):
        return self.tags.get("%s:%s" % (repo, tag), "")

    def has(self, repo, digest):
        self.asked.append((repo, digest))
        return digest in self.holds.get(repo, set())


def image(name, blobs):
    return {"name": name, "repo": "team/" + name, "tag": "latest", "digest": "m-" + name, "blobs": blobs}


class PlanTest(unittest.TestCase):
    def test_a_shared_blob_is_sent_once(self):
        images = [image("a", [("c1", 1), ("base", 100), ("attrs", 10)]),
                  image("b", [("c2", 2), ("base", 100), ("yaml", 20)])]
        rows = fleet_push.plan(images, FakeRegistry({}))
        self.assertEqual(["send", "send", "send"], [a for _, _, a in rows[0]])
        self.assertEqual(["send", "sent by a", "send"], [a for _, _, a in rows[1]])
        s = fleet_push.summary(images, rows)
        self.assertEqual([111, 22], [x["send_bytes"] for x in s])
        self.assertEqual([0, 100], [x["present_bytes"] for x in s])

    def test_what_the_registry_holds_moves_nothing(self):
        images = [image("a", [("c1", 1), ("base", 100)]), image("b", [("c2", 2), ("base", 100)])]
        rows = fleet_push.plan(images, FakeRegistry({"team/b": {"base"}}))
        # a lacks base, b holds it: a mounts it from b rather than sending it.
        self.assertEqual(["send", "mount team/b"], [a for _, _, a in rows[0]])
        self.assertEqual(["send", "there"], [a for _, _, a in rows[1]])
        self.assertEqual([1, 2], [x["send_bytes"] for x in fleet_push.summary(images, rows)])

    def test_an_image_whose_tag_names_its_digest_is_left_alone(self):
        images = [image("a", [("c1", 1), ("base", 100)]), image("b", [("c2", 2), ("base", 100)])]
        # a's tag names a's built manifest; b's tag names an older one.
        registry = FakeRegistry({"team/a": {"c1", "base"}, "team/b": {"base"}}, {"team/a:latest": "m-a", "team/b:latest": "m-old"})
        rows = fleet_push.plan(images, registry)
        self.assertEqual([True, False], [i["current"] for i in images])
        self.assertEqual(["there", "there"], [a for _, _, a in rows[0]])
        # None of a's own blobs is asked for (b's c2 may be looked for in a, to mount it).
        self.assertEqual([], [(r, d) for r, d in registry.asked if r == "team/a" and d in ("c1", "base")])
        self.assertEqual(["send", "there"], [a for _, _, a in rows[1]])
        self.assertEqual([True, False], [x["current"] for x in fleet_push.summary(images, rows)])

    def test_no_registry_no_push(self):
        with self.assertRaises(SystemExit) as caught:
            fleet_push.main(["--image", "x=y=z:latest"])
        self.assertIn("needs --registry", str(caught.exception))


class RecordingRegistry(fleet_push.Registry):
    """A registry whose requests are recorded, not sent; each answers as a registry would."""

    def __init__(self):
        super().__init__("registry.test", False, "")
        self.requests = []

    def _send(self, method, url, headers, body_chunks=(), length=0):
        body = b"".join(body_chunks)
        self.requests.append((method, url, body))
        if method == "POST":
            return 202, {"Location": "/v2/upload/1"}, b""
        if method == "PATCH":
            return 202, {"Location": "/v2/upload/1?state=x"}, b""
        return 201, {}, b""


class LazyPushTest(unittest.TestCase):
    def test_an_upload_is_finished_only_when_the_bytes_hash_to_the_digest(self):
        data = b"layer bytes"
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        api = RecordingRegistry()
        api.upload("team/a", digest, len(data), iter([data[:5], data[5:]]))
        self.assertEqual(["POST", "PATCH", "PUT"], [m for m, _, _ in api.requests])
        self.assertEqual(data, api.requests[1][2])
        self.assertIn("digest=sha256%3A" + digest[7:], api.requests[2][1])

        api = RecordingRegistry()
        with self.assertRaises(fleet_push.PushError) as caught:
            api.upload("team/a", digest, len(data), iter([b"other bytes"]))
        self.assertIn("the upload was not finished", str(caught.exception))
        self.assertEqual(["POST", "PATCH"], [m for m, _, _ in api.requests])  # no PUT: nothing finished

    def test_a_manifest_naming_something_else_than_a_digest_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "m.json")
            with open(path, "w") as f:
                json.dump({"mediaType": "x", "config": {"digest": "sha256:../../etc", "size": 1}, "layers": []}, f)
            with self.assertRaises(fleet_push.PushError) as caught:
                fleet_push.read_manifest(path)
            self.assertIn("not a sha256 digest", str(caught.exception))

    def test_the_protobuf_fields_read_back(self):
        message = fleet_push._field(1, "inst") + fleet_push._field(2, fleet_push._field(1, "ab") + fleet_push._field(2, 300))
        fields = list(fleet_push._fields(message))
        self.assertEqual((1, b"inst"), fields[0])
        self.assertEqual([(1, b"ab"), (2, 300)], list(fleet_push._fields(fields[1][1])))

    def test_an_unknown_cache_scheme_is_refused(self):
        with self.assertRaises(fleet_push.PushError) as caught:
            fleet_push.open_cache("ftp://cache")
        self.assertIn("http(s)://HOST", str(caught.exception))


class TagRegistry(http.server.BaseHTTPRequestHandler):
    """Answers manifest HEADs: team/a:latest names sha256:aa, team/locked wants a password."""

    def do_HEAD(self):  # noqa: N802 (http.server's name)
        if self.path.startswith("/v2/team/locked/"):
            self.send_response(401)
        elif self.path == "/v2/team/a/manifests/latest" and "oci" in self.headers.get("Accept", ""):
            self.send_response(200)
            self.send_header("Docker-Content-Digest", "sha256:aa")
        else:
            self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


class RegistryTest(unittest.TestCase):
    def test_a_tag_is_read_from_the_registry(self):
        server = http.server.HTTPServer(("127.0.0.1", 0), TagRegistry)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            api = fleet_push.Registry("127.0.0.1:%d" % server.server_port, False, "")
            self.assertEqual("sha256:aa", api.tag_digest("team/a", "latest"))
            self.assertEqual("", api.tag_digest("team/b", "latest"))
            with self.assertRaises(fleet_push.PushError) as caught:
                api.tag_digest("team/locked", "latest")
            self.assertIn("give --dest-creds", str(caught.exception))
            with self.assertRaises(fleet_push.PushError):
                api.has("team/locked", "sha256:aa")
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
