"""The claims table: rows from verdicts, `error` for a missing or invalid one, substitutions flagged."""

from bnrepro import claims, table


def test_table_rows(tmp_path):
    claims_dir = tmp_path / "results" / "claims"
    ok = claims.Verdict(id="cao2023/uniform-margin", statement="s", source="Theorem 2.2", scale="quick", seeds=[0])
    ok.check("D_BN(T)", 1e-20, "<=", 1e-15)
    ok.write(claims_dir / "cao2023-uniform-margin.json")
    sub = claims.Verdict(
        id="ergen2022/cifar",
        statement="s",
        source="Fig 5",
        scale="quick",
        seeds=[0],
        dataset={"requested": "cifar10", "used": "digits", "substituted": True, "reason": "offline"},
    )
    sub.check("|accuracy|", 0.4, ">=", 0.5)
    sub.write(claims_dir / "ergen2022-cifar.json")
    (claims_dir / "luo2019-broken.json").write_text("{not json")
    out = table.write(
        ["cao2023/uniform-margin", "ergen2022/cifar", "lee2022/missing", "luo2019/broken"], tmp_path / "results" / "claims.md", claims_dir
    )
    text = out.read_text()
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")}
    assert "reproduced" in rows["`cao2023/uniform-margin`"] and "1/1 checks pass" in rows["`cao2023/uniform-margin`"]
    assert "not reproduced" in rows["`ergen2022/cifar`"] and "failing: \\|accuracy\\|" in rows["`ergen2022/cifar`"]
    assert "**digits** instead of cifar10" in rows["`ergen2022/cifar`"]
    assert "error" in rows["`lee2022/missing`"] and "no verdict" in rows["`lee2022/missing`"]
    assert "error" in rows["`luo2019/broken`"] and "invalid verdict" in rows["`luo2019/broken`"]
    assert "(notebooks/lee2022-missing.html)" in rows["`lee2022/missing`"]
    assert "4 claims: 1 reproduced, 1 not-reproduced, 2 error" in text
