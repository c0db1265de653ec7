"""Imports a package of each lock and one that only a dependency list brings in."""

import importlib.metadata as md

import markdown_it  # rich's dependency, from uv.lock's dependency list
import requests
import rich
import urllib3  # requests' dependency: the pylock.toml has no dependency list; its METADATA does

for mod in (rich, markdown_it, requests, urllib3):
    name = mod.__name__.replace("_", "-")
    print("%s %s" % (name, md.version("markdown-it-py" if name == "markdown-it" else name)))
