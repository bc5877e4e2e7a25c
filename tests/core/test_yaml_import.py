"""PyYAML imported with its pure-Python reader's pattern deferred (`mockgw serve`): the same documents, the same
mistakes, worded the same, as with a plain `import yaml`. Each case runs in a fresh interpreter (this one has
imported PyYAML already)."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = r"""
import json, re, sys
compile_before = re.compile
if sys.argv[1] == "deferred":
    from mockgw.core.yaml_import import import_yaml
    import_yaml()
import yaml
import yaml.reader

def mistake(text):
    try:
        yaml.safe_load(text)  # the pure-Python reader and parser
    except yaml.YAMLError as exc:
        return str(exc)
    return None

print(json.dumps({
    "kind": type(yaml.reader.Reader.NON_PRINTABLE).__name__,
    "compile_restored": re.compile is compile_before,
    "fast": yaml.load("a: [1, 2.5, true, null, x]\nb: {c: d}\n", Loader=yaml.CSafeLoader),
    "pure": yaml.safe_load("a: [1, 2.5, true, null, x]\nb: {c: d}\n"),
    "unprintable": mistake("a: b\x07c\n"),
    "pattern": yaml.reader.Reader.NON_PRINTABLE.pattern,
    "search": [m.start() for m in [yaml.reader.Reader.NON_PRINTABLE.search("ok\x00")] if m],
}))
"""


def _probe(mode: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_deferred_pattern_reads_and_rejects_yaml_as_plain_pyyaml_does() -> None:
    plain, deferred = _probe("plain"), _probe("deferred")
    assert plain["kind"] == "Pattern"
    assert deferred["kind"] == "DeferredPattern"  # the import did not compile it
    assert deferred["compile_restored"] is True
    assert deferred["fast"] == deferred["pure"] == plain["fast"] == {"a": [1, 2.5, True, None, "x"], "b": {"c": "d"}}
    assert "special characters are not allowed" in str(plain["unprintable"])
    assert deferred["unprintable"] == plain["unprintable"]
    assert deferred["pattern"] == plain["pattern"]
    assert deferred["search"] == plain["search"] == [2]
