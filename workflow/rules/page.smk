# The reader's page, results/index.html: every paper's regenerated figures in the paper's order, then its claims
# (status and reason, evidence, parts, stand-ins, dataset, replicates, runtime, thumbnail, links to the rendered
# notebook and the verdict). Its math, and the rendered notebooks', is typeset by the MathJax copied once into
# results/mathjax/ (linked by relative paths, so results/ reads offline). When a claim fails, `onerror`
# (table.smk) writes the page instead, with an `error` entry for each missing verdict.


rule mathjax:
    output:
        directory("results/mathjax"),
    log:
        "results/logs/mathjax.log",
    conda:
        ENV
    params:
        run=BNREPRO,
    shell:
        "{params.run}mathjax {output:q} > {log:q} 2>&1"


rule reader_page:
    input:
        verdicts=verdicts(CLAIMS),
        runs=[str(run_record_path(v)) for v in verdicts(CLAIMS)],
        replicates=[verdicts(CLAIMS, offset) for offset in REPLICATE_OFFSETS],
        table="results/claims.md",
        mathjax="results/mathjax",
        code=["src/bnrepro/page.py", "src/bnrepro/table.py", "src/bnrepro/templates/index.html.j2"],
    output:
        report("results/index.html", caption="../report/index.rst", category="Summary"),
    log:
        "results/logs/reader_page.log",
    conda:
        ENV
    params:
        run=BNREPRO,
        claims=" ".join(CLAIMS),
        replicates=" ".join(map(str, REPLICATE_OFFSETS)),
    shell:
        "{params.run}page --out {output:q} --replicates {params.replicates} -- {params.claims} > {log:q} 2>&1"
