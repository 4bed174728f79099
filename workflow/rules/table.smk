# results/claims.md: one table of every claim. When a claim fails, this rule
# cannot run (its input is missing), so `onerror` writes the table instead,
# with an `error` row for each missing verdict; the run still exits non-zero.


rule claims_table:
    input:
        verdicts(CLAIMS),
    output:
        report("results/claims.md", caption="../report/claims.rst", category="Summary"),
    log:
        "results/logs/claims_table.log",
    conda:
        ENV
    params:
        run=BNREPRO,
        claims=" ".join(CLAIMS),
    shell:
        "{params.run}table --out {output:q} {params.claims} > {log:q} 2>&1"


onerror:
    table.write(CLAIMS, "results/claims.md")
    print("Some claims failed: results/claims.md marks them `error`; read results/notebooks/<paper>-<slug>.html for the failing cell.", file=sys.stderr)
