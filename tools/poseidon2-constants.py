#!/usr/bin/env python3
"""Print the Poseidon2 (KoalaBear, width 16) constants of l1-contracts/test/vectors/poseidon2.json
as the packed hex literals used in l1-contracts/src/lib/Poseidon2.sol (RC and DIAG).

RC = 4x16 initial external || 20 internal || 4x16 final external round constants,
DIAG = the 16 internal-diagonal entries; each value a 4-byte big-endian word.
Usage: tools/poseidon2-constants.py [path/to/poseidon2.json]"""
import json
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "l1-contracts/test/vectors/poseidon2.json"
d = json.load(open(path))
rc = [x for row in d["rc_external_initial"] for x in row] + d["rc_internal"] + [
    x for row in d["rc_external_final"] for x in row
]
assert len(rc) == 148 and len(d["internal_diag"]) == 16
def packed(xs):
    return "".join("%08x" % x for x in xs)
print('bytes internal constant RC = hex"%s";' % packed(rc))
print('bytes internal constant DIAG = hex"%s";' % packed(d["internal_diag"]))
