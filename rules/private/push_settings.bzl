"""`@rules_pyimage//rules:push_from_cache`: the remote cache a lazy push reads the blobs from."""

PushFromCacheInfo = provider(
    doc = "The value of `//rules:push_from_cache`.",
    fields = {"url": "(str) the remote cache's URL, or \"\" for a push from the local output tree"},
)

_SCHEMES = ["http://", "https://", "grpc://", "grpcs://"]

def _push_from_cache_impl(ctx):
    url = ctx.build_setting_value
    if url and not [s for s in _SCHEMES if url.startswith(s)]:
        fail("--%s=%s: give the remote cache the build writes to, as Bazel's --remote_cache: http(s)://HOST[:PORT][/PATH] or grpc(s)://HOST:PORT[/INSTANCE]" % (ctx.label, url))
    for c in url.elems():
        if c in "'\"`$\\ \t\n;&|<>(){}":
            fail("--%s=%s: the URL has the character %s, which a URL does not need" % (ctx.label, url, repr(c)))
    return [PushFromCacheInfo(url = url)]

push_from_cache_setting = rule(
    implementation = _push_from_cache_impl,
    build_setting = config.string(flag = True),
    doc = """Where `NAME.push` and a fleet's `NAME.push` read the image's blobs from.

Empty (the default): from the image's OCI layout in the output tree, which `bazel run`
downloads first. Set to the build's remote cache (`--@rules_pyimage//rules:push_from_cache=grpc://cache:8980`,
beside `--remote_cache` and `--remote_download_minimal`), the push is lazy: its runfiles hold
only the manifest, and every config and layer blob streams from the cache, found by its sha256,
to the registry, without reaching this machine's disk (docs/team.md, "Lazy push").""",
)
