"""The training run for profile-guided optimisation (PGO): what the instrumented interpreter runs
to record which branches and functions are hot.

CPython's own training run (`-m test --pgo`) is a part of its test suite. Its profile differs from
one run to the next: the tests read clocks, start threads, name temporary files from os.urandom,
race on timeouts and list directories in the file system's order, and every such difference moves
a few counters, which moves GCC's inlining and block layout and so the interpreter's bytes. A
profile is an input of the compile, so it has to be reproducible for the interpreter to be.

This workload exercises what applications spend their time on: the bytecode loop, calls and
attributes, ints, floats and strings, dicts, lists and sets, comprehensions and generators,
exceptions, classes and dataclasses, the compiler, json, re, pickle, struct, hashlib, zlib,
decimal, datetime arithmetic, xml.etree and sqlite3, and ordinary Python code (the standard
library's pure-Python modules and small programs; see pure_python()). Every part of it is
deterministic:
- one thread, no clock, no sleeping, no temporary files, no network, no subprocess;
- random numbers only from `random.Random(seed)`; no set or dict keyed by object identity in
  this file;
- build_cpython.sh runs it with PYTHONHASHSEED=0, through pgo_isolate.c (address-space
  randomisation off, a fixed mmap base, default signals, no inherited descriptors) and with
  pgo_preload.c preloaded (directories listed in name order, whatever the file system; every
  mapping made from a fixed address up, and the extension modules' libraries loaded at 2 MiB
  boundaries, whatever the kernel and the file system), with a fixed stack limit, a cleared
  environment and -B (no .pyc written), so that object addresses, hashes and directory listings
  are the same in every run and on every machine; st_dev reads 0 (the device number of the
  builder's tmpfs is the host's to give); getrandom() gives the same bytes in every run (expat
  draws its hash salt from it, since PYTHONHASHSEED=0 makes pyexpat pass a salt of 0); and this
  file is copied into the build tree first, so that sys.path[0] is on the builder's own tmpfs too.

It prints one line, the sha256 of everything it computed: two runs that print different digests
did not do the same work. The profile's own digest is printed by build_cpython.sh.

    python -B -S pgo_task.py [--scale N]
"""

import array
import base64
import bisect
import collections
import dataclasses
import datetime
import decimal
import difflib
import enum
import fractions
import functools
import hashlib
import heapq
import io
import itertools
import json
import math
import operator
import os
import pickle
import random
import re
import sqlite3
import statistics
import string
import struct
import sys
import textwrap
import unicodedata
import xml.etree.ElementTree as ET
import zlib

DIGEST = hashlib.sha256()


def record(value):
    """Folds a result into the run's digest (its repr, so every type counts)."""
    DIGEST.update(repr(value).encode("utf-8", "surrogatepass"))


# --- the bytecode loop: calls, attributes, closures, floats ----------------------------------
def nbody(steps):
    bodies = [
        [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], 39.47841760435743],
        [[4.84, -1.16, -0.10], [0.606, 2.81, -0.02], 0.037],
        [[8.34, 4.12, -0.40], [-1.01, 1.82, 0.008], 0.011],
        [[12.89, -15.11, -0.22], [1.08, 0.868, -0.01], 0.0017],
        [[15.37, -25.91, 0.17], [0.979, 0.594, -0.034], 0.0020],
    ]
    pairs = list(itertools.combinations(bodies, 2))
    dt = 0.01
    for _ in range(steps):
        for ((x1, y1, z1), v1, m1), ((x2, y2, z2), v2, m2) in pairs:
            dx, dy, dz = x1 - x2, y1 - y2, z1 - z2
            mag = dt * ((dx * dx + dy * dy + dz * dz) ** -1.5)
            b1m, b2m = m1 * mag, m2 * mag
            v1[0] -= dx * b2m
            v1[1] -= dy * b2m
            v1[2] -= dz * b2m
            v2[0] += dx * b1m
            v2[1] += dy * b1m
            v2[2] += dz * b1m
        for r, v, _m in bodies:
            r[0] += dt * v[0]
            r[1] += dt * v[1]
            r[2] += dt * v[2]
    return [round(c, 9) for body in bodies for c in body[0]]


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


class Shape:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def area(self):
        raise NotImplementedError

    def describe(self):
        return "%s with area %.3f" % (self.name, self.area())


class Rect(Shape):
    __slots__ = ("w", "h")

    def __init__(self, w, h):
        super().__init__("rect")
        self.w, self.h = w, h

    def area(self):
        return self.w * self.h


class Circle(Shape):
    __slots__ = ("r",)

    def __init__(self, r):
        super().__init__("circle")
        self.r = r

    def area(self):
        return math.pi * self.r * self.r


class Account:
    """An ordinary class with a __dict__, properties and dunder methods."""

    rate = 0.01

    def __init__(self, owner, balance=0):
        self.owner = owner
        self._balance = balance
        self.history = []

    @property
    def balance(self):
        return self._balance

    def deposit(self, amount):
        if amount <= 0:
            raise ValueError("amount must be positive, not %r" % amount)
        self._balance += amount
        self.history.append(("deposit", amount))

    def withdraw(self, amount):
        if amount > self._balance:
            raise LookupError(f"{self.owner}: {amount} > {self._balance}")
        self._balance -= amount
        self.history.append(("withdraw", amount))

    def __lt__(self, other):
        return (self._balance, self.owner) < (other._balance, other.owner)

    def __repr__(self):
        return f"Account({self.owner!r}, {self._balance})"


@dataclasses.dataclass(frozen=True, order=True)
class Point:
    x: int
    y: int

    def moved(self, dx, dy):
        return dataclasses.replace(self, x=self.x + dx, y=self.y + dy)


class Color(enum.Enum):
    RED = 1
    GREEN = 2
    BLUE = 3


def objects(rounds, rng):
    total = 0.0
    shapes = [Rect(i % 7 + 1, i % 5 + 1) if i % 2 else Circle(i % 9 + 1) for i in range(200)]
    accounts = [Account("owner%03d" % i, i) for i in range(100)]
    for n in range(rounds):
        for shape in shapes:
            total += shape.area()
        record(shapes[n % len(shapes)].describe())
        for acc in accounts:
            try:
                acc.deposit(rng.randint(-2, 20))
                acc.withdraw(rng.randint(0, 30))
            except ValueError as e:
                record(str(e)[:10])
            except LookupError:
                pass
        accounts.sort()
        points = {Point(i % 17, i % 13) for i in range(300)}
        points = sorted(p.moved(1, -1) for p in points)
        record((points[0], points[-1], len(points)))
        record([Color(i % 3 + 1).name for i in range(10)])
        record(getattr(accounts[0], "balance"))
        record(isinstance(shapes[0], Shape) and hasattr(accounts[1], "history"))
    record(round(total, 6))
    record(accounts[:3])


def closures_and_generators(n):
    def counter(start):
        count = start

        def step(by=1):
            nonlocal count
            count += by
            return count

        return step

    def gen_primes(limit):
        sieve = bytearray([1]) * limit
        for i in range(2, limit):
            if sieve[i]:
                yield i
                sieve[i * i::i] = bytes(len(range(i * i, limit, i)))

    def pipeline(xs):
        evens = (x for x in xs if x % 2 == 0)
        squares = (x * x for x in evens)
        yield from (s for s in squares if s % 3)

    def coroutine():
        total = 0
        while True:
            value = yield total
            if value is None:
                return total
            total += value

    step = counter(10)
    for i in range(n):
        step(i % 3)
    record(step(0))
    record(sum(gen_primes(n)))
    record(sum(pipeline(range(n))))
    co = coroutine()
    next(co)
    for i in range(n // 10):
        co.send(i)
    try:
        co.send(None)
    except StopIteration as stop:
        record(stop.value)
    record([x * y for x in range(30) for y in range(30) if (x + y) % 7 == 0][:20])
    record({k: v for k, v in zip(range(500), reversed(range(500))) if k % 3}.get(4))
    record(sorted({x % 37 for x in range(2000)}))
    record(list(map(operator.mul, range(100), range(100, 200)))[-1])
    record(functools.reduce(operator.xor, range(n)))


def pattern_matching(rounds):
    def classify(item):
        match item:
            case {"kind": "point", "x": x, "y": y}:
                return ("point", x + y)
            case [first, *rest] if len(rest) > 2:
                return ("long", first, len(rest))
            case [first, second]:
                return ("pair", first, second)
            case Point(x=0, y=y):
                return ("on-axis", y)
            case str() as s if s.isdigit():
                return ("digits", int(s))
            case int(n) | float(n):
                return ("number", n)
            case _:
                return ("other",)

    items = [{"kind": "point", "x": 1, "y": 2}, [1, 2, 3, 4], [5, 6], Point(0, 3), "123", 4.5, 7, None]
    counts = collections.Counter()
    for i in range(rounds):
        counts[classify(items[i % len(items)])[0]] += 1
    record(sorted(counts.items()))


# --- numbers ----------------------------------------------------------------------------------
def numbers(n, rng):
    record(math.factorial(400) % 1000003)
    record(pow(3, 10 ** 4, 10 ** 12 + 39))
    big = 1
    for i in range(1, n):
        big = big * i + (big >> 3)
    record(len(str(big % 10 ** 4000)))
    record(int(str(big % 10 ** 4000)[:2000]) % 997)
    floats = [rng.random() * 10 ** rng.randint(-20, 20) for _ in range(n)]
    record([repr(f) for f in floats[:50]])
    record(sum(float(repr(f)) == f for f in floats))
    record(["%.6e|%g|%0.3f" % (f, f, f) for f in floats[:50]])
    record(round(math.fsum(floats), 3))
    record(round(statistics.mean(floats[:500]), 6))
    record(round(statistics.median(floats[:501]), 6))
    record(round(statistics.stdev(floats[:300]), 3))
    record([round(math.sin(x) * math.exp(-x / 100), 12) for x in range(200)][-3:])
    record(complex(1, 2) ** 10 + sum(complex(i, -i) for i in range(100)))
    decimal.getcontext().prec = 50
    d = decimal.Decimal(1)
    for i in range(1, 300):
        d += decimal.Decimal(1) / decimal.Decimal(i)
    record(str(d))
    record(str(decimal.Decimal(2).sqrt()))
    f = fractions.Fraction(0)
    for i in range(1, 120):
        f += fractions.Fraction(1, i * (i + 1))
    record(f)
    record([divmod(a, b) for a, b in zip(range(-50, 50, 3), range(1, 100, 3))][:10])
    record(sorted(floats)[:5])
    record(hex(sum(i * 2654435761 & 0xFFFFFFFF for i in range(n))))


# --- text ----------------------------------------------------------------------------------------
WORDS = (
    "the quick brown fox jumps over the lazy dog while seven wizards quietly box "
    "jackdaws and loves my big sphinx of quartz grüße naïve café déjà vu Ελληνικά "
    "кириллица 日本語 テキスト 中文 emoji 🐍 ok"
).split()


def text(rounds, rng):
    for r in range(rounds):
        words = [WORDS[rng.randrange(len(WORDS))] for _ in range(400)]
        s = " ".join(words)
        record(len(s.split()))
        record(s.upper()[:40] + s.lower()[-40:] + s.title()[:20] + s.swapcase()[:10])
        record(s.replace("the", "THE").count("THE"))
        record([s.find(w) for w in ("fox", "café", "🐍", "absent")])
        record(s.encode("utf-8")[:30])
        record(len(s.encode("utf-16-le")) + len(s.encode("utf-32")))
        record(s.encode("ascii", "replace")[:30])
        record(s.encode("latin-1", "backslashreplace")[:60])
        record(s.encode("utf-8").decode("utf-8") == s)
        record("%s-%d-%r" % (words[0], r, words[1]))
        record("{0:>12}|{1:<8}|{2:^9.3f}|{3:x}".format(words[2], words[3], r / 7, r * 255))
        record(f"{words[4]!r:20} {r:08d} {r / 3:.5f} {r:,}")
        record(s.strip("tq ").startswith("u") or s.endswith("ok"))
        record(sorted(set(words))[:5])
        record(collections.Counter(words).most_common(3))
        record(s.partition("fox")[2][:10] + "|".join(s.rsplit(" ", 3)[1:]))
        record(s.translate(str.maketrans("aeiou", "AEIOU"))[:40])
        record(unicodedata.normalize("NFD", s)[:30] + unicodedata.normalize("NFKC", s)[-30:])
        record([unicodedata.category(c) for c in s[:40]])
        record(s.casefold().isalpha() or s.isascii() or s.isidentifier())
        record(textwrap.fill(s[:500], width=60).count("\n"))
        record(string.Template("$who likes $what").substitute(who=words[0], what=words[1]))
        record(repr(s)[:50] + ascii(s)[:50])
        record(s.splitlines() + s.expandtabs().split("o", 5))
        record(s.zfill(5)[:5] + s.center(len(s) + 4, "*")[:5])
        record(str(r).rjust(6, "0") + hex(r) + oct(r) + bin(r))
        record("".join(reversed(words[:20])))


def regexes(rounds, rng):
    patterns = [
        r"(\w+)@(\w+)\.(com|org|net)",
        r"^\s*(?P<key>[A-Za-z_][\w.-]*)\s*=\s*(?P<value>.*?)\s*$",
        r"\b\d{1,3}(?:\.\d{1,3}){3}\b",
        r"(?i)the\s+(\w+)",
        r"[aeiou]{2,}",
        r"(\d+)-(\d+)-(\d+)T(\d+):(\d+)",
        r"(?s)<(\w+)[^>]*>(.*?)</\1>",
        r"(?:caf[eé]|na[iï]ve)",
    ]
    compiled = [re.compile(p) for p in patterns]
    for r in range(rounds):
        lines = []
        for i in range(200):
            k = rng.randrange(6)
            if k == 0:
                lines.append("user%d@example%d.%s" % (i, r, ("com", "org", "net")[i % 3]))
            elif k == 1:
                lines.append("  key_%d.sub = value %d  " % (i, i * r))
            elif k == 2:
                lines.append("10.%d.%d.%d" % (i % 256, r % 256, (i * r) % 256))
            elif k == 3:
                lines.append("2026-%02d-%02dT%02d:%02d <b class=x>bold %d</b>" % (i % 12 + 1, i % 28 + 1, i % 24, i % 60, i))
            else:
                lines.append(" ".join(WORDS[(i + j) % len(WORDS)] for j in range(8)))
        blob = "\n".join(lines)
        for rx in compiled:
            record(len(rx.findall(blob)))
            m = rx.search(blob)
            record(m.groups() if m else None)
        record(re.sub(r"\d+", lambda m: str(int(m.group()) * 2), blob[:2000])[-50:])
        record(re.split(r"[\s,;]+", blob[:3000])[:10])
        record([m.groupdict() for m in compiled[1].finditer(blob, re.M)][:3])
        record(bool(re.fullmatch(r"[\w\s@.<>=/:-]+", blob[:100])))
        record(re.escape(blob[:40]))
    record(re.purge() is None)


# --- containers ---------------------------------------------------------------------------------
def containers(n, rng):
    data = [rng.randrange(n * 10) for _ in range(n)]
    record(sorted(data)[:10])
    record(sorted(data, key=lambda x: (x % 7, -x))[:10])
    record(sorted(map(str, data))[:10])
    record(sorted(((x % 13, str(x)) for x in data), reverse=True)[:5])
    d = {}
    for i, x in enumerate(data):
        d[x] = d.get(x, 0) + i
        d.setdefault(str(x % 100), []).append(i) if i % 5 == 0 else None
    record(len(d))
    for k in list(d)[::3]:
        del d[k]
    record(sum(v for v in d.values() if isinstance(v, int)))
    d2 = dict(zip(map(str, range(1000)), range(1000)))
    d2.update({str(i): -i for i in range(0, 1000, 7)})
    record(sum(d2.values()) + len(d2 | {"x": 1}))
    s1, s2 = set(data[: n // 2]), set(data[n // 2:])
    record((len(s1 & s2), len(s1 | s2), len(s1 - s2), len(s1 ^ s2), s1 <= s2))
    record(frozenset(range(50)) == frozenset(reversed(range(50))))
    lst = []
    for x in data:
        bisect.insort(lst, x)
    record(lst[:5] == sorted(data)[:5])
    heap = []
    for x in data:
        heapq.heappush(heap, (x % 101, x))
    record([heapq.heappop(heap) for _ in range(10)])
    record(heapq.nlargest(5, data) + heapq.nsmallest(5, data))
    dq = collections.deque(maxlen=100)
    for x in data:
        dq.append(x)
        if x % 3 == 0:
            dq.appendleft(dq.pop())
        if x % 11 == 0:
            dq.rotate(3)
    record(list(dq)[:10])
    dd = collections.defaultdict(list)
    for x in data:
        dd[x % 17].append(x)
    record(sorted((k, len(v)) for k, v in dd.items()))
    od = collections.OrderedDict()
    for x in data[:500]:
        od[x % 50] = x
        od.move_to_end(x % 50, last=bool(x % 2))
    record(list(od.items())[:5])
    Pair = collections.namedtuple("Pair", "a b")
    pairs = [Pair(x, -x) for x in data[:300]]
    record(sorted(pairs)[:3] + [pairs[0]._replace(b=0), pairs[1]._asdict()])
    record(list(itertools.islice(itertools.cycle("abc"), 10)))
    record(list(itertools.accumulate(data[:20], operator.add)))
    record([(k, len(list(g))) for k, g in itertools.groupby(sorted(x % 10 for x in data))])
    record(sum(1 for _ in itertools.permutations(range(7))))
    record(len(list(itertools.product("abcd", repeat=4))))
    record(list(itertools.chain.from_iterable([[1, 2], (3,), range(4, 6)])))
    record(list(itertools.zip_longest("abc", range(5), fillvalue="-")))
    record(list(itertools.starmap(pow, [(2, 5), (3, 2)])) + list(itertools.compress("abcd", [1, 0, 1, 0])))
    arr = array.array("d", (x / 3 for x in data[:1000]))
    record(round(sum(arr), 3))
    arr2 = array.array("i", data[:1000])
    arr2.reverse()
    record(arr2[:5].tolist() + [arr2.count(arr2[0]), len(arr2.tobytes())])
    mv = memoryview(bytearray(range(256)) * 4)
    record(bytes(mv[10:20]) + bytes(mv[::64]))
    t = tuple(data)
    record((t.count(t[0]), t.index(t[5]), t[::-100][:3], hash(t) == hash(tuple(data))))

    @functools.lru_cache(maxsize=2048)
    def partitions(n, k):
        if n == 0:
            return 1
        if n < 0 or k == 0:
            return 0
        return partitions(n - k, k) + partitions(n, k - 1)

    record(partitions(120, 120))
    record(partitions.cache_info().hits > 0)
    add3 = functools.partial(operator.add, 3)
    record(list(map(add3, range(5))))


# --- bytes, serialisation, compression, hashing ------------------------------------------------
def build_document(i, rng):
    return {
        "id": i,
        "name": "item-%d" % i,
        "tags": [WORDS[(i + j) % len(WORDS)] for j in range(i % 5)],
        "price": round(rng.random() * 100, 2),
        "stock": None if i % 7 == 0 else i * 3,
        "active": bool(i % 2),
        "nested": {"a": [1, 2.5, "x" * (i % 4)], "b": {"c": i}},
    }


def serialisation(rounds, rng):
    docs = [build_document(i, rng) for i in range(300)]
    for r in range(rounds):
        text_ = json.dumps(docs, sort_keys=bool(r % 2))
        record(hashlib.sha256(text_.encode()).hexdigest())
        back = json.loads(text_)
        record(back[r % len(back)])
        record(json.dumps(docs[:5], indent=2, ensure_ascii=False)[:100])
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            blob = pickle.dumps(docs[:100], protocol=protocol)
            record((protocol, len(blob), pickle.loads(blob)[-1]))
        record(pickle.loads(pickle.dumps([Point(1, 2), Color.RED, decimal.Decimal("1.5"), datetime.date(2020, 1, 2)])))
        packed = b"".join(struct.pack("<iHdq?", i, i % 65536, i / 3, -i, bool(i % 2)) for i in range(500))
        record(sum(t[0] for t in struct.iter_unpack("<iHdq?", packed)))
        record(struct.unpack(">4sI", b"spam" + (r).to_bytes(4, "big")))
        comp = zlib.compress(text_.encode(), 6)
        record((len(comp), zlib.crc32(comp), zlib.adler32(comp)))
        record(zlib.decompress(comp) == text_.encode())
        b64 = base64.b64encode(comp[:3000])
        record(base64.b64decode(b64) == comp[:3000])
        record(base64.b32encode(comp[:100]) + base64.b16encode(comp[:50]) + base64.urlsafe_b64encode(comp[:60]))
        for name in ("md5", "sha1", "sha256", "sha512", "blake2b", "sha3_256"):
            record(hashlib.new(name, comp).hexdigest())
        buf = io.BytesIO()
        for chunk in range(0, len(comp), 1000):
            buf.write(comp[chunk:chunk + 1000])
        buf.seek(0)
        record(len(buf.read(500)) + len(buf.getvalue()))
        sio = io.StringIO()
        for doc in docs[:100]:
            print(doc["id"], doc["name"], doc["price"], sep=",", file=sio)
        record(sio.getvalue().count("\n"))
        by = bytearray(text_[:5000].encode())
        by.extend(b"tail")
        record((by.find(b"price"), by.count(b'"'), bytes(by).split(b",")[3], by.hex()[:40]))


def xml_and_sql(rounds):
    for r in range(rounds):
        root = ET.Element("catalog", version=str(r))
        for i in range(200):
            item = ET.SubElement(root, "item", id=str(i), kind=("a", "b", "c")[i % 3])
            ET.SubElement(item, "name").text = "name %d & <%d>" % (i, r)
            ET.SubElement(item, "price").text = "%.2f" % (i * 1.25)
        blob = ET.tostring(root, encoding="unicode")
        parsed = ET.fromstring(blob)
        record(len(blob))
        record([e.get("id") for e in parsed.iter("item") if e.get("kind") == "b"][:10])
        record(sum(float(p.text) for p in parsed.findall("./item/price")))
        record(parsed.find("./item[@id='7']/name").text)
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, value REAL)")
    db.executemany("INSERT INTO t (name, value) VALUES (?, ?)", [("n%d" % i, i / 7) for i in range(2000)])
    record(db.execute("SELECT count(*), round(sum(value), 3) FROM t WHERE id % 3 = 0").fetchone())
    record(db.execute("SELECT name FROM t ORDER BY value DESC LIMIT 5").fetchall())
    db.close()


def dates(n):
    start = datetime.datetime(2020, 2, 28, 23, 30, tzinfo=datetime.timezone.utc)
    step = datetime.timedelta(hours=7, minutes=13, seconds=5)
    t = start
    out = []
    for i in range(n):
        t = t + step
        if i % 50 == 0:
            out.append(t.isoformat())
            out.append(t.strftime("%Y-%m-%d %H:%M:%S %a %j"))
            out.append(datetime.datetime.fromisoformat(t.isoformat()) == t)
            out.append((t - start).total_seconds())
            out.append(t.astimezone(datetime.timezone(datetime.timedelta(hours=-5))).hour)
            out.append(datetime.date(2000 + i % 50, i % 12 + 1, i % 28 + 1).isocalendar())
    record(out)


# --- ordinary Python code: the stdlib's pure-Python modules and small programs ------------------
# GCC treats as hot only the blocks that make up 99% of the counted execution and leans to size
# for the rest: a training dominated by one loop or by C-heavy work (the parser, _sre, _decimal)
# leaves the bytecode paths of plain application code (calls with keywords, attribute and global
# lookups, small methods, try/finally, generators) cold. CPython's own `-m test --pgo` gave an
# interpreter 8% faster on pyperformance than this task did before this section, when a cache
# too small in containers() made 80% of the run one recursive function (docs/toolchain.md).
# The section runs pure-Python implementations that the C accelerators normally hide, and
# programs of the shapes applications have: a scheduler of objects, a search with generators,
# vector arithmetic in small classes, constraint propagation, a unittest suite.
def pure_python(rounds, rng):
    import _pydecimal
    import argparse
    import email.parser
    import email.policy
    import html.parser
    import inspect
    import json.decoder
    import json.encoder
    import json.scanner
    import shlex
    import tokenize
    import unittest

    ctx = _pydecimal.Context(prec=30)
    d = _pydecimal.Decimal(0)
    for i in range(1, 40 * rounds):
        d = ctx.add(d, ctx.divide(_pydecimal.Decimal(i), _pydecimal.Decimal(i + 7)))
    record(str(d))
    record(str(ctx.sqrt(_pydecimal.Decimal(2))))
    docs = [build_document(i, rng) for i in range(4 * rounds)]
    for doc in docs[:rounds]:
        out = io.BytesIO()
        pickle._Pickler(out, protocol=4).dump(doc)
        record(pickle._Unpickler(io.BytesIO(out.getvalue())).load() == doc)
    encoder = json.encoder.JSONEncoder(sort_keys=True, indent=1)
    encoder.c_make_encoder = None  # the pure-Python iterencode
    text = "".join(encoder.iterencode(docs, _one_shot=False))
    decoder = json.decoder.JSONDecoder()
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    decoder.parse_string = json.decoder.py_scanstring
    record(decoder.decode(text) == json.loads(text))
    source = inspect.getsource(collections)
    record(sum(1 for _ in tokenize.generate_tokens(io.StringIO(source).readline)))

    class Collect(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags = collections.Counter()

        def handle_starttag(self, tag, attrs):
            self.tags[tag] += len(attrs) + 1

    page = "".join('<div class="c%d"><a href="/p/%d?x=%s">%s</a><br/><p>%s &amp; more</p></div>\n'
                   % (i, i, w, w.upper(), w) for i, w in enumerate(WORDS * rounds))
    p = Collect()
    p.feed(page)
    p.close()
    record(sorted(p.tags.items()))
    parser = argparse.ArgumentParser(prog="app")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--name", action="append")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("files", nargs="*")
    for i in range(rounds):
        ns = parser.parse_args(["--count", str(i), "--name", "a", "-vv", "x", "y%d" % i, "--name=b"])
        record((ns.count, ns.name, ns.verbose, ns.files))
    record(shlex.split('cmd --opt "a b" \'c d\' e\\ f'))
    message = ("From: A <a@example.invalid>\nTo: b@example.invalid\nSubject: =?utf-8?q?gr=C3=BC=C3=9Fe?=\n"
               "Content-Type: text/plain; charset=utf-8\n\n" + " ".join(WORDS) + "\n")
    for _ in range(rounds):
        msg = email.parser.Parser(policy=email.policy.default).parsestr(message)
        record((str(msg["subject"]), msg.get_content_type(), len(msg.get_content())))
    record([str(inspect.signature(f)) for f in (build_document, Account.deposit, Point.moved)])

    class Arithmetic(unittest.TestCase):
        def test_sums(self):
            for i in range(50):
                with self.subTest(i=i):
                    self.assertEqual(sum(range(i)), i * (i - 1) // 2)

        def test_raises(self):
            with self.assertRaises(ZeroDivisionError):
                1 / 0
            self.assertRaisesRegex(ValueError, "invalid literal", int, "x")

        def test_containers(self):
            self.assertDictEqual({"a": [1, 2]}, {"a": [1, 2]})
            self.assertCountEqual("abcab", "aabbc")
            self.assertIn(3, {1, 2, 3})

        @unittest.skip("shows a skip")
        def test_skipped(self):
            pass

        def test_fails(self):
            self.assertEqual([1, 2, 3], [1, 2, 4])

    # A TestResult of its own: the text runner reads the clock.
    for _ in range(rounds):
        result = unittest.TestResult()
        unittest.defaultTestLoader.loadTestsFromTestCase(Arithmetic).run(result)
        record((result.testsRun, len(result.failures), len(result.skipped), len(result.errors)))


class Task:
    """A cooperative scheduler's task (the shape of an event loop or a job queue)."""

    def __init__(self, ident, priority, work, queue):
        self.ident, self.priority, self.work, self.queue = ident, priority, work, queue
        self.done = 0
        self.waiting = False

    def run(self, scheduler):
        if self.waiting or not self.work:
            return None
        self.done += 1
        self.work -= 1
        if self.work % 3 == 0 and self.queue is not None:
            scheduler.send(self, self.queue)
            self.waiting = True
        return self.ident


class Scheduler:
    def __init__(self):
        self.tasks = []
        self.log = []

    def add(self, task):
        self.tasks.append(task)

    def send(self, task, target):
        for t in self.tasks:
            if t.ident == target:
                t.waiting = False
                self.log.append((task.ident, target))
                return
        raise KeyError(target)

    def step(self):
        ran = 0
        for task in sorted(self.tasks, key=lambda t: -t.priority):
            if task.run(self) is not None:
                ran += 1
        return ran


class Vec:
    __slots__ = ("x", "y", "z")

    def __init__(self, x, y, z):
        self.x, self.y, self.z = x, y, z

    def __add__(self, o):
        return Vec(self.x + o.x, self.y + o.y, self.z + o.z)

    def __sub__(self, o):
        return Vec(self.x - o.x, self.y - o.y, self.z - o.z)

    def scale(self, k):
        return Vec(self.x * k, self.y * k, self.z * k)

    def dot(self, o):
        return self.x * o.x + self.y * o.y + self.z * o.z

    def norm(self):
        return self.scale(1.0 / math.sqrt(self.dot(self)))


def trace(width, height):
    spheres = [(Vec(0.0, 0.0, 5.0 + i), 1.0 + i / 4, i) for i in range(4)]
    eye, hits = Vec(0.0, 0.0, 0.0), [0] * 5
    for j in range(height):
        for i in range(width):
            ray = Vec((i - width / 2) / width, (j - height / 2) / height, 1.0).norm()
            best, kind = float("inf"), 4
            for centre, radius, k in spheres:
                oc = eye - centre
                b = oc.dot(ray)
                disc = b * b - oc.dot(oc) + radius * radius
                if disc > 0:
                    t = -b - math.sqrt(disc)
                    if 0 < t < best:
                        best, kind = t, k
            hits[kind] += 1
    return hits


def queens(n):
    def solutions(cols):
        for perm in itertools.permutations(cols):
            if n == len({perm[i] + i for i in cols}) == len({perm[i] - i for i in cols}):
                yield perm

    return sum(1 for _ in solutions(range(n)))


def propagate(n):
    """Constraints a + b = c over variables, solved by propagation (the shape of a spreadsheet)."""
    values = {"v0": 1, "v1": 2}
    rules = [("v%d" % (i + 2), "v%d" % i, "v%d" % (i + 1)) for i in reversed(range(n))]
    changed = True
    while changed:
        changed = False
        for out, a, b in rules:
            if out not in values and a in values and b in values:
                values[out] = (values[a] + values[b]) % 1000003
                changed = True
    return values["v%d" % (n + 1)]


def programs(rounds):
    sched = Scheduler()
    for i in range(20):
        sched.add(Task(i, i % 5, 30 + i, (i * 7 + 3) % 20 if i % 4 else None))
    steps = 0
    while sched.step():
        steps += 1
    record((steps, len(sched.log), sched.log[:5]))
    record(trace(64 * rounds, 48 * rounds))
    record(queens(8))
    record(propagate(100 * rounds))


# --- the compiler and the import system ---------------------------------------------------------
def compiler(limit):
    """Compiles stdlib sources (sorted, so the same files in the same order every time)."""
    import ast
    import tokenize

    lib = os.path.dirname(os.__file__)
    names = sorted(n for n in os.listdir(lib) if n.endswith(".py"))[:limit]
    total = 0
    for name in names:
        path = os.path.join(lib, name)
        with open(path, "rb") as f:
            source = f.read()
        tree = ast.parse(source, filename=name)
        code = compile(tree, name, "exec")
        total += len(code.co_consts) + sum(1 for _ in ast.walk(tree))
        if len(source) < 20000:
            total += len(ast.unparse(tree))
            total += sum(1 for _ in tokenize.tokenize(io.BytesIO(source).readline))
    record((len(names), total))
    namespace = {}
    exec(compile("def f(n):\n    return sum(i * i for i in range(n))\n", "<pgo>", "exec"), namespace)
    record(namespace["f"](1000))
    record(eval("[x ** 2 for x in range(10)]"))


def imports():
    modules = [
        "argparse", "ast", "calendar", "configparser", "contextlib", "copy", "csv", "email.message",
        "email.parser", "fnmatch", "glob", "gzip", "html", "html.parser", "http.client", "inspect",
        "ipaddress", "logging", "lzma", "bz2", "mimetypes", "numbers", "pathlib", "pprint", "queue",
        "shlex", "shutil", "socket", "ssl", "tarfile", "tempfile", "threading", "tokenize",
        "traceback", "typing", "urllib.parse", "urllib.request", "uuid", "warnings", "weakref",
        "zipfile",
    ]
    loaded = []
    for name in modules:
        try:
            __import__(name)
            loaded.append(name)
        except ImportError:
            pass
    record(loaded)
    import copy
    import csv
    import ipaddress
    import pathlib
    import pprint
    import urllib.parse

    doc = {"a": [1, 2, {"b": (3, 4)}], "c": "d" * 50}
    record(copy.deepcopy([doc] * 3))
    record(pprint.pformat([doc] * 3, width=60))
    record(urllib.parse.urlsplit("https://user@example.invalid:8080/p/a/t/h?query=1&x=%20y#frag"))
    record(urllib.parse.quote("a b/c?d=é") + urllib.parse.urlencode({"q": "x y", "n": 3}))
    record(str(pathlib.PurePosixPath("/opt/pyimage/python") / "lib" / "x.py"))
    record([str(ip) for ip in ipaddress.ip_network("10.0.0.0/29")])
    rows = list(csv.reader(io.StringIO("a,b,c\n1,\"2,3\",4\n")))
    record(rows)
    record(difflib.unified_diff(["a\n", "b\n", "c\n"], ["a\n", "c\n", "d\n"]).__next__())
    record(round(difflib.SequenceMatcher(None, " ".join(WORDS), " ".join(reversed(WORDS))).ratio(), 6))


def main(argv):
    scale = 1
    if len(argv) == 3 and argv[1] == "--scale":
        scale = int(argv[2])
    elif len(argv) != 1:
        sys.exit("usage: pgo_task.py [--scale N]")
    rng = random.Random(20260101)
    for _ in range(scale):
        imports()
        compiler(limit=60)
        record(nbody(20000))
        record(fib(24))
        objects(60, rng)
        closures_and_generators(20000)
        pattern_matching(30000)
        numbers(2000, rng)
        text(40, rng)
        regexes(15, rng)
        containers(20000, rng)
        serialisation(6, rng)
        xml_and_sql(8)
        pure_python(30, rng)
        programs(3)
        dates(5000)
    import threading

    # The instrumented interpreter counts without atomic updates: a second thread would make
    # the counts wrong and the profile irreproducible.
    if threading.active_count() != 1:
        sys.exit("pgo_task: %d threads are running; the training run must have one" % threading.active_count())
    print("pgo_task: %s" % DIGEST.hexdigest())


if __name__ == "__main__":
    main(sys.argv)
