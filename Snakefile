# The batch-normalization claims companion: one notebook per paper claim,
# executed by papermill, each writing its figures and a machine-checked verdict.
#   snakemake --cores 8              everything (profiles/default is picked up); browse results/index.html
#   snakemake --cores 2 cao2023      one paper
#   snakemake --cores 1 cao2023_uniform_margin    one claim (rule = claim id with _)
#   snakemake --config scale=quick   the small, fast scale
#   snakemake --config seed_offset=1000          a replicate: every seed shifted (results/replicates/1000/)
#   snakemake replicates --config replicate_offsets=[1000]   main run + replicates, compared in one table
#   snakemake --cores 1 data         provision the datasets the claims ask for (data/manifests/*.json)

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/claims.smk"
include: "workflow/rules/table.smk"
include: "workflow/rules/page.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        ["results/claims.md", "results/index.html"] if SEED_OFFSET == 0 else f"results/replicates/{SEED_OFFSET}/claims.md",
        "results/mathjax",
