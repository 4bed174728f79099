"""The claims table: v2 rows (evidence, reason, parts, stand-ins), `error` for a missing or invalid verdict,
substitutions flagged, sanity checks counted apart, replicate statuses beside the main one."""

from bnrepro import claims, table


def _verdict(cid, root, *, ok=True, offset=0, **kw):
    v = claims.Verdict(id=cid, statement="s", source="Theorem 2.2", evidence="full-text", scale="quick", seeds=[0], seed_offset=offset, **kw)
    v.check("D_BN(T)", 1e-20 if ok else 1.0, "<=", 1e-15, kind="claim")
    v.check("TLS offset = mean", 0.0, "<=", 1e-12, kind="sanity")
    v.write(root / claims.verdict_path(cid).name)


def test_table_rows(tmp_path):
    claims_dir = tmp_path / "results" / "claims"
    _verdict("cao2023/uniform-margin", claims_dir, stand_ins=["network: a small CNN for VGG-16"])
    sub = claims.Verdict(id="ergen2022/cifar", statement="s", source="Fig 5", evidence="abstract", scale="quick", seeds=[0, 1, 2],
                         dataset={"requested": "cifar10", "used": "digits", "substituted": True, "reason": "offline"})
    sub.check("|accuracy|", [0.4, 0.5, 0.45], ">=", 0.5, kind="claim", part="mimics", aggregate="mean")
    sub.check("gain", 0.3, ">", 0.0, kind="claim", part="improves")
    sub.write(claims_dir / "ergen2022-cifar.json")
    (claims_dir / "luo2019-broken.json").write_text("{not json")
    replicate_dir = tmp_path / "results" / "replicates" / "1000" / "claims"
    _verdict("cao2023/uniform-margin", replicate_dir, ok=False, offset=1000)
    out = table.write(["cao2023/uniform-margin", "ergen2022/cifar", "lee2022/missing", "luo2019/broken"],
                      tmp_path / "results" / "claims.md", claims_dir, replicate_offsets=[1000])
    text = out.read_text()
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")}
    cao = rows["`cao2023/uniform-margin`"]
    assert "✅ reproduced**: every claim check and control passes" in cao and "| full text |" in cao
    assert "network: a small CNN for VGG-16" in cao and "+1000: not-reproduced ⚠️ differs" in cao
    cifar = rows["`ergen2022/cifar`"]
    assert "🟡 partial" in cifar and "mimics: inconclusive<br>improves: reproduced" in cifar and "abstract only" in cifar
    assert "**digits** instead of cifar10" in cifar and "+1000: not run" in cifar
    assert "error" in rows["`lee2022/missing`"] and "no verdict" in rows["`lee2022/missing`"]
    assert "error" in rows["`luo2019/broken`"] and "invalid verdict" in rows["`luo2019/broken`"]
    assert "(notebooks/lee2022-missing.html)" in rows["`lee2022/missing`"]
    assert "4 claims: 1 reproduced, 1 partial, 2 error. Evidence: 3 claim checks. Implementation verified: 1 identities" in text
    assert "1 claim(s) whose status differs from the main run" in text
    assert "| sanity |  | TLS offset = mean | 0 | &lt;= | 1e-12 |  |  | pass |" in text
    assert "| claim | mimics | \\|accuracy\\| | 0.45 | &gt;= | 0.5 | 3 | [" in text


def test_seed_lists_are_described_by_count_and_ranges():
    assert table.describe_seeds(list(range(10000))) == "10000: 0-9999"
    assert table.describe_seeds([0, 1, 2, 3, 7, 9, 10]) == "7: 0-3, 7, 9-10"
    assert table.describe_seeds([5]) == "1: 5"
