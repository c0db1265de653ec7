"""fleet_push.plan: each blob is sent once across the fleet; a blob another repository of the
registry holds is mounted, one the image's repository holds is left; the summary adds up."""

import unittest

from rules.private.tools import fleet_push


class FakeRegistry:
    def __init__(self, holds):
        self.holds = holds  # {repo: {digest}}

    def has(self, repo, digest):
        return digest in self.holds.get(repo, set())


def image(name, blobs):
    return {"name": name, "repo": "team/" + name, "blobs": blobs}


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

    def test_no_registry_no_push(self):
        with self.assertRaises(SystemExit) as caught:
            fleet_push.main(["--image", "x=y=z:latest"])
        self.assertIn("needs --registry", str(caught.exception))


if __name__ == "__main__":
    unittest.main(verbosity=2)
