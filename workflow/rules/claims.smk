# The one generic claim rule: jupytext source -> papermill -> normalized .ipynb -> HTML. It is declared
# twice from one definition: the main run (results/, figures/) and replicates, whose every seed list is
# shifted by {offset} (results/replicates/{offset}/, figures/replicates/{offset}/).
# The executed notebook and its HTML are declared as logs, which Snakemake keeps when the job fails, so a
# failing notebook can be read with its error shown.


wildcard_constraints:
    paper="[a-z0-9]+",
    slug="[a-z0-9]+(-[a-z0-9]+)*",
    offset="[1-9][0-9]*",


for _replicate in (False, True):
    _results = "results/replicates/{offset}/" if _replicate else "results/"
    _figures = "figures/replicates/{offset}/{paper}/{slug}" if _replicate else "figures/{paper}/{slug}"

    rule:
        name:
            "claim_replicate" if _replicate else "claim"
        input:
            notebook=lambda wc: claim_entry(wc)["notebook"],
            library=LIBRARY,
            data=claim_manifests,  # data/manifests/<dataset>.json of each dataset it asks for (data.smk)
        output:
            verdict=f"{_results}claims/{{paper}}-{{slug}}.json",
            run=f"{_results}claims/{{paper}}-{{slug}}.run.json",
            figures=directory(_figures)
            if _replicate
            else report(
                directory(_figures),
                patterns=["{name}.png"],
                caption="../report/claim.rst",
                category="{paper}",
                subcategory="{slug}",
            ),
        log:
            ipynb=f"{_results}notebooks/{{paper}}-{{slug}}.ipynb",
            html=f"{_results}notebooks/{{paper}}-{{slug}}.html",
        threads: lambda wc: registry.threads(claim_entry(wc), config["scale"])
        priority: claim_priority
        resources:
            mem_mb=lambda wc: claim_entry(wc).get("mem_mb", 2000),
            runtime=lambda wc: claim_entry(wc).get("runtime_min", 30),
        conda:
            ENV
        params:
            run=BNREPRO,
            # A function of the wildcards only: Snakemake does not track params computed from `threads`, so a
            # change of scale or parameters would not rerun the claim. The job's actual threads (fewer when
            # --cores is smaller) go to the command line instead.
            parameters=lambda wc: json.dumps(
                registry.claim_parameters(
                    config, claim_id(wc), threads=registry.threads(claim_entry(wc), config["scale"]), seed_offset=seed_offset(wc)
                )
            ),
        shell:
            "BNREPRO_DATA_DOWNLOAD=0 {params.run}execute {input.notebook:q} --parameters {params.parameters:q} --threads {threads}"
            " --ipynb {log.ipynb:q} --html {log.html:q} --verdict {output.verdict:q}"


# One target per paper (`snakemake cao2023`) and per claim (`snakemake cao2023_uniform_margin`), for the
# main run or, with --config seed_offset=K, for that replicate; each brings the MathJax its rendered notebooks load.
for _paper in PAPERS:

    rule:
        name:
            _paper
        input:
            verdicts([c for c in CLAIMS if split_id(c)[0] == _paper], SEED_OFFSET),
            "results/mathjax",  # the rendered notebooks' math


for _claim in CLAIMS:

    rule:
        name:
            target_name(_claim)
        input:
            verdicts([_claim], SEED_OFFSET),
            "results/mathjax",
