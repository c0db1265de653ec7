"""Checked downloads for repository rules: one clear error for a wrong hash or a missing file."""

def download_checked(rctx, urls, output, sha256, what, unreachable_hint, pinned_in):
    """Downloads one of urls to output, refusing any file whose sha256 is not sha256.

    Args:
      rctx: the repository_ctx.
      urls: mirrors of the same file, tried in order.
      output: path inside the repository.
      sha256: the pinned hash.
      what: the thing for messages, for example "CPython 3.13.5: Python-3.13.5.tar.xz".
      unreachable_hint: what to do when no URL serves the file.
      pinned_in: the file that pins the hash, for messages.
    """
    result = rctx.download(url = urls, output = output, sha256 = sha256, allow_fail = True)
    if result.success:
        return

    # Tell a wrong hash apart from an unreachable file: fetch without the hash and compare.
    got = _probe_sha256(rctx, urls, "_probe_" + output.replace("/", "_"))
    if got:
        fail(("%s from %s has sha256 %s, but %s pins %s. The file is refused. If the pinned hash " +
              "is out of date, correct it; otherwise the mirror serves another file.") %
             (what, urls, got, pinned_in, sha256))
    fail("%s: could not fetch it (sha256 %s) from %s, and it is not in Bazel's repository cache or --distdir.\n%s" %
         (what, sha256, urls, unreachable_hint))

def _probe_sha256(rctx, urls, scratch):
    """The sha256 of what the first reachable URL serves, or None."""
    for url in urls:
        path = scratch + "/file"
        if url.startswith("http://"):
            # Bazel refuses plain-http downloads without a checksum; curl, where present, may.
            curl = rctx.which("curl")
            if not curl:
                continue
            ok = rctx.execute([curl, "-sSfL", "--create-dirs", "--max-time", "120", "-o", path, url]).return_code == 0
        else:
            ok = rctx.download(url = [url], output = path, allow_fail = True).success
        got = None
        if ok:
            result = rctx.execute(["sha256sum", path])
            if result.return_code == 0:
                got = result.stdout.split(" ")[0]
        rctx.delete(scratch)
        if got:
            return got
    return None

def apt_mirrors(rctx):
    """(archive URIs, security URIs) from the host's apt configuration and repo_env overrides.

    `rules/private/tools/apt_sources.py` reads them (the one reader of /etc/apt, unit-tested);
    PYIMAGE_DEBIAN_MIRROR and PYIMAGE_DEBIAN_SECURITY_MIRROR, when set, replace what apt names.

    Args:
      rctx: the repository_ctx.

    Returns:
      (archive URIs, security URIs): two lists of strings.
    """
    python = rctx.which("python3")
    if not python:
        fail("%s: reading the host's apt sources needs the host's python3 (or set PYIMAGE_DEBIAN_MIRROR)" % rctx.name)
    result = rctx.execute([python, rctx.path(Label("//rules/private/tools:apt_sources.py"))], quiet = True)
    if result.return_code != 0:
        fail("%s: could not read the host's apt sources: %s" % (rctx.name, result.stderr))
    found = json.decode(result.stdout)
    return found["archive"], found["security"]
