# Datasets as pipeline inputs. Each dataset a claim asks for (its registry entry's `datasets`) is provisioned once,
# by one job of the `dataset` rule: verified in data/, or installed there from a verified tarball, the Debian package
# or a download, along the fallback chain (cifar10 -> fashion-mnist -> digits) unless strict_data=true. The job writes
# data/manifests/<name>.json (what was asked for and used, where it came from, every file's md5, any substitution and
# its reason); the claims that ask for the dataset depend on that manifest, and their notebooks, which md5-check
# every file again when they load it, never download themselves (BNREPRO_DATA_DOWNLOAD=0 in the claim rule).
# `snakemake -n` lists the dataset jobs still to run, each with what it will do (verify, install, DOWNLOAD from ...).
#   snakemake --cores 1 data        provision every dataset the registry asks for (e.g. before going offline)


wildcard_constraints:
    dataset="cifar10|fashion-mnist|digits",


# Where Snakemake runs, also under a cluster profile: a cluster's compute nodes often cannot download.
localrules:
    dataset,


rule dataset:
    # First, and as wide as the widest claim job at this scale: a dataset job is short, and a claim that takes several
    # cores can then start on the cores it frees; otherwise single-core claims fill each core it frees, and that claim
    # waits for them all until the end of the run. At the quick scale every claim takes one thread, and so does this.
    priority: 100000
    threads: max(registry.threads(entry, config["scale"]) for entry in config["claims"].values())
    output:
        manifest_path("{dataset}"),
    params:
        run=BNREPRO,
        root=lambda wc, output: str(Path(output[0]).parent.parent),  # DATA_ROOT
        strict="--strict" if config["strict_data"] else "",
    # a resource, not a param: what provisioning will do changes once it is done, and must not rerun the job
    resources:
        plan=lambda wc: provision.plan(wc.dataset, root=DATA_ROOT),
    log:
        "results/logs/dataset-{dataset}.log",
    message:
        "dataset {wildcards.dataset}: {resources.plan}"
    conda:
        ENV
    shell:
        "{params.run}data.provision {wildcards.dataset:q} --root {params.root:q} --manifest {output:q} {params.strict}"
        " > {log:q} 2>&1"


rule data:
    input:
        [manifest_path(d) for d in DATASETS],
