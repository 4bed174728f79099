# results/claims.md: one table of every claim, with the status of each replicate in `replicate_offsets`
# beside the main one; results/replicates/K/claims.md: the table of one replicate. When a claim fails,
# these rules cannot run (an input is missing), so `onerror` writes the tables (and results/index.html) instead, with an `error`
# row for each missing verdict; the run still exits non-zero.


rule claims_table:
    input:
        verdicts(CLAIMS),
        [verdicts(CLAIMS, offset) for offset in REPLICATE_OFFSETS],
        code="src/bnrepro/table.py",
    output:
        report("results/claims.md", caption="../report/claims.rst", category="Summary"),
    log:
        "results/logs/claims_table.log",
    conda:
        ENV
    params:
        run=BNREPRO,
        claims=" ".join(CLAIMS),
        replicates=" ".join(map(str, REPLICATE_OFFSETS)),
    shell:
        "{params.run}table --out {output:q} --replicates {params.replicates} -- {params.claims} > {log:q} 2>&1"


rule replicate_table:
    input:
        verdicts=lambda wc: verdicts(CLAIMS, int(wc.offset)),
        code="src/bnrepro/table.py",
    output:
        "results/replicates/{offset}/claims.md",
    log:
        "results/replicates/{offset}/logs/claims_table.log",
    conda:
        ENV
    params:
        run=BNREPRO,
        claims=" ".join(CLAIMS),
    shell:
        "{params.run}table --out {output:q} --claims-dir results/replicates/{wildcards.offset}/claims"
        " -- {params.claims} > {log:q} 2>&1"


rule replicates:
    input:
        replicate_targets,


onerror:
    table.write(CLAIMS, "results/claims.md", replicate_offsets=REPLICATE_OFFSETS)
    page.write(CLAIMS, "results/index.html", replicate_offsets=REPLICATE_OFFSETS)
    for offset in sorted({SEED_OFFSET, *REPLICATE_OFFSETS} - {0}):
        table.write(CLAIMS, f"results/replicates/{offset}/claims.md", f"results/replicates/{offset}/claims")
    print(
        "Some claims failed: results/claims.md and results/index.html mark them `error`; read results/notebooks/<paper>-<slug>.html "
        "for the failing cell.",
        file=sys.stderr,
    )
