"""A per-layer size report of an image: as text, and as an HTML page with a chart that a browser
shows without a network (inline SVG, no script, no external file).

In:  each layer's name, uncompressed tar and gzipped blob (base first); how many of the largest
     paths to list.
Out: NAME.sizes.txt and NAME.sizes.html: for each layer its uncompressed and compressed size, its
     number of files, its largest directories (the bytes of regular files below each, at most
     six levels deep) and its largest files; the totals. Deterministic: sorted, no clock.

Usage: layer_sizes.py --title TEXT --layer NAME=TAR=GZ [--layer ...] --text OUT --html OUT [--top N]
"""

import argparse
import html
import os
import sys
import tarfile

DEPTH = 6  # directories are summed at most this many levels deep (opt/pyimage/python/lib/python3.13/X)


def mib(n):
    return "%.1f MiB" % (n / 1048576.0) if n >= 1048576 else "%.1f KiB" % (n / 1024.0)


def layer_report(name, tar_path, gz_path, top):
    files, dirs = [], {}
    with tarfile.open(tar_path) as tar:
        for m in tar.getmembers():
            if not m.isreg():
                continue
            path = m.name.lstrip("./")
            files.append((m.size, path))
            parts = path.split("/")[:-1]
            for depth in range(1, min(len(parts), DEPTH) + 1):
                key = "/".join(parts[:depth]) + "/"
                dirs[key] = dirs.get(key, 0) + m.size
    def by_size(item):
        return (-item[0], item[1])

    # The deepest directories that still hold much: leave out a directory when one child has
    # nearly all of its bytes (it says nothing the child does not).
    deep = sorted(((size, d) for d, size in dirs.items()), key=by_size)
    shown = []
    for size, d in deep:
        if any(child.startswith(d) and child != d and csize >= 0.9 * size for csize, child in deep):
            continue
        shown.append((size, d))
    return {
        "name": name,
        "uncompressed": os.path.getsize(tar_path),
        "compressed": os.path.getsize(gz_path),
        "files": len(files),
        "dirs": shown[:top],
        "largest": sorted(files, key=by_size)[:top],
    }


def text(title, layers):
    lines = ["%s: %d layers, %s uncompressed, %s compressed" % (
        title, len(layers), mib(sum(l["uncompressed"] for l in layers)), mib(sum(l["compressed"] for l in layers)))]
    for l in layers:
        lines.append("")
        lines.append("layer %s: %s uncompressed, %s compressed, %d files" % (
            l["name"], mib(l["uncompressed"]), mib(l["compressed"]), l["files"]))
        lines += ["  dir   %10s  %s" % (mib(size), d) for size, d in l["dirs"]]
        lines += ["  file  %10s  %s" % (mib(size), p) for size, p in l["largest"]]
    return "\n".join(lines) + "\n"


def page(title, layers):
    width, bar_height, label = 640, 22, 70
    most = max(l["uncompressed"] for l in layers) or 1
    bars = []
    for i, l in enumerate(layers):
        y = 10 + i * (2 * bar_height + 12)
        for j, (key, colour) in enumerate([("uncompressed", "#9db4d6"), ("compressed", "#2f5f9e")]):
            w = max(1, int(width * l[key] / most))
            bars.append('<rect x="%d" y="%d" width="%d" height="%d" fill="%s"><title>%s %s: %s</title></rect>' % (
                label, y + j * bar_height, w, bar_height - 2, colour, html.escape(l["name"]), key, mib(l[key])))
            bars.append('<text x="%d" y="%d" font-size="12">%s</text>' % (label + w + 6, y + j * bar_height + 15, mib(l[key])))
        bars.append('<text x="0" y="%d" font-size="13" font-weight="bold">%s</text>' % (y + bar_height + 4, html.escape(l["name"])))
    height = 20 + len(layers) * (2 * bar_height + 12)
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="layer sizes">%s</svg>'
           % (label + width + 100, height, "".join(bars)))
    sections = []
    for l in layers:
        rows = "".join("<tr><td>dir</td><td class=n>%s</td><td>%s</td></tr>" % (mib(s), html.escape(d)) for s, d in l["dirs"])
        rows += "".join("<tr><td>file</td><td class=n>%s</td><td>%s</td></tr>" % (mib(s), html.escape(p)) for s, p in l["largest"])
        sections.append("<h2>%s</h2><p>%s uncompressed, %s compressed, %d files</p><table>%s</table>" % (
            html.escape(l["name"]), mib(l["uncompressed"]), mib(l["compressed"]), l["files"], rows))
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title><style>"
            "body{font-family:sans-serif;margin:2em}td{padding:0 .6em}td.n{text-align:right}"
            "</style></head><body><h1>%s</h1><p>Light: uncompressed; dark: compressed (what a pull "
            "downloads).</p>%s%s</body></html>\n") % (html.escape(title), html.escape(title), svg, "".join(sections))


def write(path, content):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(content)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--title", required=True)
    parser.add_argument("--layer", action="append", required=True, help="NAME=TAR=GZ")
    parser.add_argument("--text", required=True)
    parser.add_argument("--html", required=True)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args(argv)
    layers = []
    for spec in args.layer:
        parts = spec.split("=")
        if len(parts) != 3:
            sys.exit("ERROR: --layer %r is not NAME=TAR=GZ" % spec)
        layers.append(layer_report(parts[0], parts[1], parts[2], args.top))
    write(args.text, text(args.title, layers))
    write(args.html, page(args.title, layers))


if __name__ == "__main__":
    main()
